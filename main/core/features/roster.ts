// The roster (RFC 6121 §2): fetched on connect into the archive's roster cache, kept current
// by pushes (only from our own account), shown with each contact's presence.
import type { ContactView } from '../../../preload/contract';
import type { Session } from '../xmpp/session';
import { NS_ROSTER, parseRosterPush, parseRosterResult, rosterQuery } from '../xmpp/roster';
import type { Feature, FeatureContext } from './feature';
import type { PresenceFeature } from './presence';

export class RosterFeature implements Feature {
  constructor(
    private readonly ctx: FeatureContext,
    private readonly presence: PresenceFeature,
  ) {
    presence.onChange = () => this.announce();
  }

  contacts(): ContactView[] {
    return this.ctx.archive.listRoster(this.ctx.accountId).map((item) => ({
      accountId: this.ctx.accountId,
      ...item,
      presence: this.presence.best(item.jid),
    }));
  }

  wire(session: Session): void {
    session.iqCallee.set(NS_ROSTER, 'query', ({ stanza }) => {
      const change = parseRosterPush(stanza, this.ctx.bare);
      if (change.kind === 'rejected') {
        this.ctx.log('warn', `${this.ctx.bare}: rejected ${change.reason}`);
        return {};
      }
      if (change.kind === 'set') this.ctx.archive.upsertContact(this.ctx.accountId, change.item);
      else this.ctx.archive.removeContact(this.ctx.accountId, change.jid);
      this.announce();
      return {};
    });
  }

  async online(session: Session): Promise<void> {
    const roster = parseRosterResult(await session.iqCaller.get(rosterQuery()));
    this.ctx.archive.replaceRoster(this.ctx.accountId, roster);
    this.announce();
  }

  private announce(): void {
    this.ctx.emit('contacts.changed', { accountId: this.ctx.accountId, contacts: this.contacts() });
  }
}
