// Message displayed synchronization (XEP-0490), where the server offers PEP with publish
// options: publish how far each chat was read, follow what my other devices publish, and
// catch up on it after every connect (after the message archive, so the positions find their
// messages). Without it, my reads still travel as displayed markers (see markers.ts).
import type { Element } from '@xmpp/xml';
import type { Session } from '../xmpp/session';
import { ask } from '../xmpp/iq';
import {
  NS_MDS,
  NS_PUBLISH_OPTIONS,
  isMdsEvent,
  isPreconditionNotMet,
  mdsConfigure,
  mdsItemsQuery,
  mdsPublish,
  parseMdsEvent,
  parseMdsItems,
  type DisplayedPosition,
} from '../xmpp/mds';
import { discoModule, type DiscoFeature } from './disco';
import type { Feature, FeatureContext, FeatureModule } from './feature';

export class MdsFeature implements Feature {
  /** Asks our server, through our caps, to notify us of the node (XEP-0163 §4.2). */
  readonly discoFeatures = [`${NS_MDS}+notify`];
  /**
   * Sessions whose server refused the publish options that keep an item per chat (ejabberd
   * 23.01 knows only persist_items and access_model there): we publish with those and configure
   * the node instead. True once configured on that session.
   */
  private readonly configuring = new WeakMap<Session, boolean>();

  constructor(
    private readonly ctx: FeatureContext,
    private readonly disco: DiscoFeature,
  ) {}

  /** Whether our account's server keeps the positions (PEP with publish options). */
  get supported(): boolean {
    const info = this.disco.account;
    return Boolean(info?.identities.some((i) => i.category === 'pubsub' && i.type === 'pep') && info.features.includes(NS_PUBLISH_OPTIONS));
  }

  stanza(stanza: Element): boolean {
    if (!isMdsEvent(stanza)) return false;
    const event = parseMdsEvent(stanza, this.ctx.bare);
    if (event.kind === 'rejected') this.ctx.log('warn', `${this.ctx.bare}: rejected ${event.reason}`);
    else this.apply(event.positions);
    return true;
  }

  async ready(session: Session): Promise<void> {
    if (!this.supported) {
      this.ctx.log('info', `${this.ctx.bare}: the server keeps no read positions (XEP-0490); reads sync through markers`);
      return;
    }
    let pubsub: Element | undefined;
    try {
      pubsub = await ask(session.iqCaller, 'get', this.ctx.bare, mdsItemsQuery(), { ownJids: [this.ctx.bare] });
    } catch (error) {
      if ((error as { condition?: string }).condition === 'item-not-found') return; // nothing published yet
      throw error;
    }
    this.apply(parseMdsItems(pubsub, this.ctx.bare));
  }

  /** Tells my other devices the chat was displayed up to `position`. */
  async publish(session: Session, position: DisplayedPosition): Promise<void> {
    if (!this.supported) return;
    await this.store(session, position).catch((error: Error) =>
      this.ctx.log('warn', `${this.ctx.bare}: could not publish the read position: ${error.message}`),
    );
  }

  private async store(session: Session, position: DisplayedPosition): Promise<void> {
    const { bare } = this.ctx;
    const set = (child: Element) => ask(session.iqCaller, 'set', bare, child, { ownJids: [bare] });
    const publish = async (options: 'all' | 'private') => {
      try {
        await set(mdsPublish(bare, position, options));
      } catch (error) {
        if (!isPreconditionNotMet(error)) throw error;
        // The node exists with another configuration (another client made it): make it ours and publish again (XEP-0060 §7.1.5).
        await set(mdsConfigure());
        await set(mdsPublish(bare, position, options));
      }
    };
    if (!this.configuring.has(session)) {
      try {
        return await publish('all');
      } catch (error) {
        if ((error as Error).name !== 'StanzaError') throw error;
        this.ctx.log('info', `${bare}: the server refused the publish options for read positions (${(error as Error).message}); configuring the node instead`);
        this.configuring.set(session, false);
      }
    }
    // Publishing first creates the node where it is missing; the configuration then keeps every chat's item.
    await publish('private');
    if (!this.configuring.get(session)) {
      await set(mdsConfigure());
      this.configuring.set(session, true);
    }
  }

  private apply(positions: DisplayedPosition[]): void {
    for (const { peer, stanzaId } of positions) {
      const conversation = this.ctx.archive.messages.readIncomingUpTo(this.ctx.accountId, peer, { stanzaId });
      if (conversation) this.ctx.emit('conversation.changed', conversation);
    }
  }
}

export const mdsModule: FeatureModule<MdsFeature> = {
  name: 'mds',
  create: (ctx, account) => new MdsFeature(ctx, account.use(discoModule)),
  events: ['conversation.changed'],
};
