// Presence (RFC 6121 §4): the presence we choose to show (remembered in the archive, sent as
// initial presence on every connect) and contacts' presence per resource.
import type { Element } from '@xmpp/xml';
import type { OwnPresence, PresenceShow } from '../../../preload/contract';
import type { Session } from '../xmpp/session';
import { PresenceBook, ownPresence, parsePresence } from '../xmpp/presence';
import type { Feature, FeatureContext } from './feature';

export class PresenceFeature implements Feature {
  private readonly book = new PresenceBook();
  private own: OwnPresence;
  /** The session our initial presence went out on: from then on, a change is sent at once. */
  private announcedOn: Session | undefined;
  /** Called when a contact's shown presence may have changed. */
  onChange: () => void = () => {};
  /** What every presence we broadcast carries besides our state, e.g. the caps hash (XEP-0115). */
  readonly extensions: Array<() => Element> = [];

  private extensionElements(): Element[] {
    return this.extensions.map((extension) => extension());
  }

  constructor(private readonly ctx: FeatureContext) {
    this.own = ctx.archive.getOwnPresence(ctx.accountId) ?? { show: 'available' };
  }

  best(jid: string): { show: PresenceShow; status?: string; idleSince?: number } {
    return this.book.best(jid);
  }

  current(): OwnPresence {
    return { ...this.own };
  }

  /** Remembers our presence and, when online, shows it now. */
  async set(presence: OwnPresence): Promise<void> {
    this.ctx.archive.setOwnPresence(this.ctx.accountId, presence);
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
    this.book.apply(parsed);
    this.onChange();
    return true;
  }

  offline(): void {
    this.announcedOn = undefined;
    this.book.clear();
    this.onChange();
  }
}
