// Presence (RFC 6121 §4): our initial presence, and contacts' presence per resource.
import type { Element } from '@xmpp/xml';
import type { PresenceShow } from '../../../preload/contract';
import type { Session } from '../xmpp/session';
import { PresenceBook, availablePresence, parsePresence } from '../xmpp/presence';
import type { Feature, FeatureContext } from './feature';

export class PresenceFeature implements Feature {
  private readonly book = new PresenceBook();
  /** Called when a contact's shown presence may have changed. */
  onChange: () => void = () => {};
  /** What every presence we broadcast carries besides our state, e.g. the caps hash (XEP-0115). */
  readonly extensions: Array<() => Element> = [];

  constructor(private readonly ctx: FeatureContext) {}

  best(jid: string): { show: PresenceShow; status?: string } {
    return this.book.best(jid);
  }

  /**
   * Initial presence goes out before the archive catch-up: Prosody delivers what it kept
   * offline only to a session that has not queried the archive yet.
   */
  async ready(session: Session): Promise<void> {
    await session.entity.send(availablePresence(this.extensions.map((extension) => extension())));
  }

  stanza(stanza: Element): boolean {
    if (!stanza.is('presence')) return false;
    const parsed = parsePresence(stanza);
    if (parsed.kind === 'ignored' || parsed.kind === 'subscribe') return true; // requests list: issue 3
    if (parsed.bare === this.ctx.bare) return true; // our own other devices
    this.book.apply(parsed);
    this.onChange();
    return true;
  }

  offline(): void {
    this.book.clear();
    this.onChange();
  }
}
