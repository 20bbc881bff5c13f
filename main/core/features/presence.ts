// Presence (RFC 6121 §4): the presence we choose to show (remembered in the archive, sent as
// initial presence on every connect) and contacts' presence per resource.
import type { Element } from '@xmpp/xml';
import type { OwnPresence, PresenceShow } from '../../../preload/contract';
import type { Session } from '../xmpp/session';
import { PresenceBook, ownPresence, parsePresence } from '../xmpp/presence';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { isContact } from './audience';

export class PresenceFeature implements Feature {
  private readonly book = new PresenceBook();
  private own: OwnPresence;
  /** The session our initial presence went out on: from then on, a change is sent at once. */
  private announcedOn: Session | undefined;

  /** What every presence we broadcast carries besides our state, e.g. the caps hash (XEP-0115). */
  private extensionElements(): Element[] {
    return this.ctx.hooks.collect('presence.extensions');
  }

  constructor(private readonly ctx: FeatureContext) {
    this.own = ctx.archive.accounts.getOwnPresence(ctx.accountId) ?? { show: 'available' };
  }

  best(jid: string): { show: PresenceShow; status?: string; idleSince?: number } {
    return this.book.best(jid);
  }

  current(): OwnPresence {
    return { ...this.own };
  }

  /** Remembers our presence and, when online, shows it now. */
  async set(presence: OwnPresence): Promise<void> {
    this.ctx.archive.accounts.setOwnPresence(this.ctx.accountId, presence);
    this.own = { ...presence };
    // A send that fails is not lost: the next connect sends what is stored as initial presence.
    await this.announcedOn?.entity
      .send(ownPresence(this.own, this.extensionElements()))
      .catch((error: Error) => this.ctx.log('warn', `${this.ctx.bare}: presence not sent now: ${error.message}`));
  }

  /**
   * Initial presence goes out before the archive catch-up: Prosody delivers what it kept
   * offline only to a session that has not queried the archive yet.
   */
  async ready(session: Session): Promise<void> {
    this.announcedOn = session;
    await session.entity.send(ownPresence(this.own, this.extensionElements()));
  }

  stanza(stanza: Element): boolean {
    if (!stanza.is('presence')) return false;
    const parsed = parsePresence(stanza, { now: this.ctx.clock.now() });
    if (parsed.kind === 'ignored') return true;
    if (parsed.bare === this.ctx.bare) return true; // our own other devices
    // A stranger's presence is not kept: nobody shows it, and a crowd of them would only grow the book.
    if (!isContact(this.ctx.archive, this.ctx.accountId, parsed.bare)) return true;
    this.book.apply(parsed);
    this.ctx.hooks.notify('presence.changed', undefined);
    return true;
  }

  offline(): void {
    this.announcedOn = undefined;
    this.book.clear();
    this.ctx.hooks.notify('presence.changed', undefined);
  }
}

export const presenceModule: FeatureModule<PresenceFeature> = {
  name: 'presence',
  create: (ctx) => new PresenceFeature(ctx),
  events: ['account.changed'],
  commands: {
    /** Remembers the presence each account shows and sends it now where online. */
    'presence.set': ({ accountId, show, status }, scope) => {
      const targets = accountId === undefined ? scope.accounts() : [scope.account(accountId)];
      return Promise.all(
        targets.map(async (account) => {
          await account.feature(presenceModule).set({ show, ...(status ? { status } : {}) });
          const view = account.view();
          scope.emit('account.changed', view);
          return view;
        }),
      );
    },
  },
};
