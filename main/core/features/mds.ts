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
  mdsItemsQuery,
  mdsPublish,
  parseMdsEvent,
  parseMdsItems,
  type DisplayedPosition,
} from '../xmpp/mds';
import { discoModule, type DiscoFeature } from './disco';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { publishToOwnPep } from './pep';

export class MdsFeature implements Feature {
  /** Asks our server, through our caps, to notify us of the node (XEP-0163 §4.2). */
  readonly discoFeatures = [`${NS_MDS}+notify`];

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

  private store(session: Session, position: DisplayedPosition): Promise<void> {
    return publishToOwnPep(session, this.ctx.bare, mdsPublish(this.ctx.bare, position));
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
