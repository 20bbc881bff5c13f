// Subscription requests (RFC 6121 §3): who asks to see our presence waits in a list kept in
// the archive (servers re-deliver pending requests at login; a repeat is stored once) until
// the user approves, denies or blocks. Contacts already allowed are answered without asking.
import type { Element } from '@xmpp/xml';
import type { SubscriptionRequestView } from '../../../preload/contract';
import type { RosterItem } from '../archive/archive';
import { CommandFailure } from '../api';
import type { Session } from '../xmpp/session';
import { blockQuery, isSubscriptionPresence, parseSubscriptionPresence, subscriptionPresence } from '../xmpp/subscriptions';
import { askServer, sessionFor } from './commands';
import type { Feature, FeatureContext } from './feature';
import type { RosterFeature } from './roster';

export type Answer = 'approve' | 'deny' | 'block';

const sharesPresence = (item: RosterItem | undefined) => item?.subscription === 'from' || item?.subscription === 'both';

export class SubscriptionsFeature implements Feature {
  constructor(
    private readonly ctx: FeatureContext,
    private readonly roster: RosterFeature,
  ) {
    roster.onItems = (items) => this.settle(items);
  }

  list(): SubscriptionRequestView[] {
    return this.ctx.archive.listSubscriptionRequests(this.ctx.accountId).map((request) => ({ accountId: this.ctx.accountId, ...request }));
  }

  stanza(stanza: Element, session: Session): boolean {
    if (!isSubscriptionPresence(stanza)) return false;
    const parsed = parseSubscriptionPresence(stanza, this.ctx.bare);
    const { archive, accountId } = this.ctx;
    switch (parsed.kind) {
      case 'request': {
        const item = this.roster.item(parsed.from);
        if (item?.approved || sharesPresence(item)) {
          // Allowed already (pre-approved, or they lost track): confirm rather than ask the user again.
          void session.entity.send(subscriptionPresence(parsed.from, 'subscribed')).catch(() => {});
          break;
        }
        const { from: jid, nick, status } = parsed;
        const stored = archive.putSubscriptionRequest(accountId, {
          jid,
          ...(nick ? { nick } : {}),
          ...(status ? { status } : {}),
          receivedAt: this.ctx.clock.now(),
        });
        if (stored) this.announce();
        break;
      }
      case 'withdrawn':
        if (archive.removeSubscriptionRequest(accountId, parsed.from)) this.announce();
        break;
      case 'rejected':
        this.ctx.log('warn', `${this.ctx.bare}: rejected ${parsed.reason}`);
        break;
      case 'answer':
        break;
    }
    return true;
  }

  /**
   * Approve: they may see our presence, and we ask to see theirs and keep them as a contact.
   * Deny: they may not. Block: deny, then block them altogether (XEP-0191); the denial goes
   * first because a server drops what we send to someone blocked.
   */
  async answer(jid: string, answer: Answer): Promise<void> {
    const request = this.list().find((r) => r.jid === jid);
    if (!request) throw new CommandFailure('not-found', `${jid} has no request waiting.`);
    const session = sessionFor(this.ctx);
    if (answer === 'approve') {
      await this.roster.add(jid, this.roster.item(jid) || !request.nick ? {} : { name: request.nick });
    } else {
      await session.entity.send(subscriptionPresence(jid, 'unsubscribed'));
      if (answer === 'block') await askServer(`Could not block ${jid}`, session.iqCaller.set(blockQuery(jid)));
    }
    if (this.ctx.archive.removeSubscriptionRequest(this.ctx.accountId, jid)) this.announce();
  }

  /** A request answered elsewhere (another device approved it) is no longer waiting. */
  private settle(items: RosterItem[]): void {
    let changed = false;
    for (const item of items) {
      if (sharesPresence(item)) changed = this.ctx.archive.removeSubscriptionRequest(this.ctx.accountId, item.jid) || changed;
    }
    if (changed) this.announce();
  }

  private announce(): void {
    this.ctx.emit('requests.changed', { accountId: this.ctx.accountId, requests: this.list() });
  }
}
