// Message requests (DESIGN §3, "strangers wait at the door"): someone not in the roster who
// writes first lands here, not in the chat list (archive: conversations.request), together
// with any subscription request they sent. One decision settles both, for one sender or many:
// accept (they become a contact and the chat joins the list), deny (refused and hidden),
// block (XEP-0191, in one request for all of them) or report as spam (XEP-0377, riding on
// the block where the server takes reports; a block alone where it does not).
import type { RosterItem } from '../archive/archive';
import type { Session } from '../xmpp/session';
import { blockQuery, subscriptionPresence } from '../xmpp/subscriptions';
import { CommandFailure } from '../api';
import { askServer, sessionFor } from './commands';
import type { FeatureContext, FeatureModule } from './feature';
import { rosterModule, type RosterFeature } from './roster';
import { subscriptionsModule, type SubscriptionsFeature } from './subscriptions';
import { discoModule } from './disco';
import { NS_REPORTING } from '../xmpp/subscriptions';

export type RequestAction = 'accept' | 'deny' | 'block' | 'report';
/** The answers to a subscription request alone (requests.answer). */
export type Answer = 'approve' | 'deny' | 'block';

export class MessageRequestsFeature {
  constructor(
    private readonly ctx: FeatureContext,
    private readonly roster: RosterFeature,
    private readonly subscriptions: SubscriptionsFeature,
    /** Whether our server takes spam reports (learnt by disco on connect). */
    private readonly takesReports: () => boolean,
  ) {}

  /**
   * Answers a waiting subscription request. Approve: they may see our presence, and we ask to
   * see theirs and keep them as a contact. Deny: they may not. Block: deny, then block them
   * altogether. A chat they started is settled the same way.
   */
  async answer(jid: string, answer: Answer): Promise<void> {
    if (!this.subscriptions.request(jid)) throw new CommandFailure('not-found', `${jid} has no request waiting.`);
    await this.decide([jid], answer === 'approve' ? 'accept' : answer);
  }

  /** Settles what `jids` asked; `reported` tells whether a spam report went with a block. */
  async decide(jids: readonly string[], action: RequestAction): Promise<{ reported: boolean }> {
    const session = sessionFor(this.ctx);
    if (action === 'accept') {
      for (const jid of jids) await this.accept(jid);
      return { reported: false };
    }
    // The denials go first: a server drops what we send to someone blocked.
    for (const jid of jids) await this.denySubscription(session, jid);
    const reported = action === 'report' && this.takesReports();
    if (action !== 'deny') {
      await askServer(`Could not block ${jids.length === 1 ? jids[0] : `${jids.length} senders`}`, session.iqCaller.set(blockQuery(jids, reported)));
    }
    for (const jid of jids) this.settleConversation(jid, 'declined');
    return { reported };
  }

  /** Roster items arrived (fetch or push, from any device): who is a contact now waits no more. */
  settle(items: readonly RosterItem[]): void {
    for (const item of items) this.settleConversation(item.jid, 'accepted');
  }

  private async accept(jid: string): Promise<void> {
    const nick = this.subscriptions.request(jid)?.nick;
    // Adding approves their subscription request too (a pre-approval answers a pending one).
    await this.roster.add(jid, this.roster.item(jid) || !nick ? {} : { name: nick });
    this.subscriptions.forget(jid);
    this.settleConversation(jid, 'accepted');
  }

  private async denySubscription(session: Session, jid: string): Promise<void> {
    if (!this.subscriptions.request(jid)) return;
    await session.entity.send(subscriptionPresence(jid, 'unsubscribed'));
    this.subscriptions.forget(jid);
  }

  private settleConversation(jid: string, decision: 'accepted' | 'declined'): void {
    const conversation = this.ctx.archive.conversations.decideRequest(this.ctx.accountId, jid, decision);
    if (conversation) this.ctx.emit('conversation.changed', conversation);
  }
}

/** Message requests: its feature has no session hooks; it settles strangers' chats and requests. */
export const requestsModule: FeatureModule<MessageRequestsFeature> = {
  name: 'requests',
  create: (ctx, account) => {
    const disco = account.use(discoModule);
    // Whether our server takes spam reports (learnt by disco on connect).
    const takesReports = () => disco.server.has(NS_REPORTING) || (disco.account?.features.includes(NS_REPORTING) ?? false);
    const requests = new MessageRequestsFeature(ctx, account.use(rosterModule), account.use(subscriptionsModule), takesReports);
    // After the subscriptions feature (made first, above), which settles the requests to see our presence.
    ctx.hooks.on('roster.items', (items) => requests.settle(items));
    return requests;
  },
  events: ['conversation.changed'],
  commands: {
    'requests.answer': async ({ accountId, jid, answer }, scope) => {
      await scope.account(accountId).feature(requestsModule).answer(jid, answer);
      return { accountId, jid };
    },
    'messageRequests.list': (_payload, { archive }) => archive.conversations.listRequests(),
    'requests.decide': async ({ items, action }, scope) => {
      const byAccount = new Map<string, string[]>();
      for (const { accountId, jid } of items) byAccount.set(accountId, [...new Set([...(byAccount.get(accountId) ?? []), jid])]);
      for (const accountId of byAccount.keys()) scope.account(accountId); // every account exists, or nothing is done
      let reported = false;
      for (const [accountId, jids] of byAccount) reported = (await scope.account(accountId).feature(requestsModule).decide(jids, action)).reported || reported;
      return { decided: items.length, reported };
    },
  },
};
