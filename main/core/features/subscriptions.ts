// Subscription requests (RFC 6121 §3): who asks to see our presence waits in a list kept in
// the archive (servers re-deliver pending requests at login; a repeat is stored once) until
// the user approves, denies or blocks it (requests.ts). Contacts already allowed are answered
// without asking. A crowd cannot flood it: at most MAX_PENDING wait, each sender changes theirs a few times per
// window at most, and the window hears of each change, not the whole list again.
import type { Element } from '@xmpp/xml';
import type { SubscriptionRequestView } from '../../../preload/contract';
import type { RosterItem } from '../archive/archive';
import type { Session } from '../xmpp/session';
import { isSubscriptionPresence, parseSubscriptionPresence, subscriptionPresence } from '../xmpp/subscriptions';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { rosterModule, type RosterFeature } from './roster';
import { SenderLimit } from './sender-limit';

const sharesPresence = (item: RosterItem | undefined) => item?.subscription === 'from' || item?.subscription === 'both';

/** Requests waiting at most; beyond it new ones are dropped (the sender may ask again later). */
export const MAX_PENDING_REQUESTS = 200;
/** Request changes (ask, withdraw) one sender may make per window. */
const CHANGES_PER_SENDER = 3;
const SENDER_WINDOW_MS = 10 * 60_000;

export class SubscriptionsFeature implements Feature {
  private readonly limit = new SenderLimit(CHANGES_PER_SENDER, SENDER_WINDOW_MS);

  constructor(
    private readonly ctx: FeatureContext,
    private readonly roster: RosterFeature,
  ) {
    ctx.hooks.on('roster.items', (items) => this.settle(items));
  }

  /** The request `jid` has waiting, if any. */
  request(jid: string): SubscriptionRequestView | undefined {
    return this.list().find((r) => r.jid === jid);
  }

  list(): SubscriptionRequestView[] {
    return this.ctx.archive.roster.listSubscriptionRequests(this.ctx.accountId).map((request) => ({ accountId: this.ctx.accountId, ...request }));
  }

  stanza(stanza: Element, session: Session): boolean {
    if (!isSubscriptionPresence(stanza)) return false;
    const parsed = parseSubscriptionPresence(stanza, this.ctx.bare);
    const { archive, accountId } = this.ctx;
    if ((parsed.kind === 'request' || parsed.kind === 'withdrawn') && !this.limit.allow(parsed.from, this.ctx.clock.now())) {
      this.ctx.log('warn', `${this.ctx.bare}: ignored a subscription ${parsed.kind} from ${parsed.from}: too many in a row`);
      return true;
    }
    switch (parsed.kind) {
      case 'request': {
        const item = this.roster.item(parsed.from);
        if (item?.approved || sharesPresence(item)) {
          // Allowed already (pre-approved, or they lost track): confirm rather than ask the user again.
          void session.entity.send(subscriptionPresence(parsed.from, 'subscribed')).catch(() => {});
          break;
        }
        const { from: jid, nick, status } = parsed;
        if (!this.request(jid) && archive.roster.countSubscriptionRequests(accountId) >= MAX_PENDING_REQUESTS) {
          this.ctx.log('warn', `${this.ctx.bare}: dropped a subscription request from ${jid}: ${MAX_PENDING_REQUESTS} are waiting already`);
          break;
        }
        const stored = archive.roster.putSubscriptionRequest(accountId, {
          jid,
          ...(nick ? { nick } : {}),
          ...(status ? { status } : {}),
          receivedAt: this.ctx.clock.now(),
        });
        if (stored) this.announce([this.request(jid)!], []);
        break;
      }
      case 'withdrawn':
        if (archive.roster.removeSubscriptionRequest(accountId, parsed.from)) this.announce([], [parsed.from]);
        break;
      case 'rejected':
        this.ctx.log('warn', `${this.ctx.bare}: rejected ${parsed.reason}`);
        break;
      case 'answer':
        break;
    }
    return true;
  }

  /** The request of `jid` is settled (answered here, or they were blocked): it no longer waits. */
  forget(jid: string): void {
    if (this.ctx.archive.roster.removeSubscriptionRequest(this.ctx.accountId, jid)) this.announce([], [jid]);
  }

  /** A request answered elsewhere (another device approved it) is no longer waiting. */
  private settle(items: readonly RosterItem[]): void {
    const removed = items.filter((item) => sharesPresence(item) && this.ctx.archive.roster.removeSubscriptionRequest(this.ctx.accountId, item.jid));
    if (removed.length > 0) this.announce([], removed.map((item) => item.jid));
  }

  private announce(added: SubscriptionRequestView[], removed: string[]): void {
    this.ctx.emit('requests.changed', { accountId: this.ctx.accountId, added, removed });
  }
}

export const subscriptionsModule: FeatureModule<SubscriptionsFeature> = {
  name: 'subscriptions',
  create: (ctx, account) => new SubscriptionsFeature(ctx, account.use(rosterModule)),
  events: ['requests.changed'],
  commands: {
    'requests.list': ({ accountId }, scope) => scope.account(accountId).feature(subscriptionsModule).list(),
  },
};
