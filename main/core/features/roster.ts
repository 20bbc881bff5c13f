// The roster (RFC 6121 §2): fetched on connect into the archive's roster cache, versioned
// (XEP-0237) so an unchanged roster costs one empty answer, kept current by pushes (only
// from our own account), edited by the user, shown with each contact's presence.
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { ContactView } from '../../../preload/contract';
import type { RosterItem } from '../archive/archive';
import { CommandFailure } from '../api';
import type { Session } from '../xmpp/session';
import { stanzaError } from '../xmpp/iq';
import {
  NS_ROSTER,
  NS_ROSTER_VER,
  isForeignRosterPush,
  parseRosterPush,
  parseRosterResult,
  rosterQuery,
  rosterRemoveQuery,
  rosterSetQuery,
} from '../xmpp/roster';
import { ask } from '../xmpp/iq';
import { subscriptionPresence } from '../xmpp/subscriptions';
import { askServer, sessionFor } from './commands';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { presenceModule, type PresenceFeature } from './presence';

const NS_STREAMS = 'http://etherx.jabber.org/streams';
const NS_PRE_APPROVAL = 'urn:xmpp:features:pre-approval';

export type ContactDetails = { name?: string; groups?: string[] };

export class RosterFeature implements Feature {
  private announcing = false;
  /** Sessions whose server offered roster versioning. */
  private readonly versioned = new WeakSet<Session>();
  /** Sessions whose server takes pre-approvals (RFC 6121 §3.4): it says so in its stream features. */
  private readonly preApproving = new WeakSet<Session>();
  /** Contacts whose request our server refused: adding them again asks again, though the roster says we asked. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly ctx: FeatureContext,
    private readonly presence: PresenceFeature,
  ) {
    ctx.hooks.on('presence.changed', () => this.announce());
  }

  contacts(): ContactView[] {
    return this.ctx.archive.roster.list(this.ctx.accountId).map((item) => ({
      accountId: this.ctx.accountId,
      jid: item.jid,
      ...(item.name ? { name: item.name } : {}),
      subscription: item.subscription,
      groups: item.groups,
      ...(item.ask ? { awaitingApproval: true } : {}),
      presence: this.presence.best(item.jid),
    }));
  }

  item(jid: string): RosterItem | undefined {
    return this.ctx.archive.roster.list(this.ctx.accountId).find((item) => item.jid === jid);
  }

  wire(session: Session): void {
    session.entity.on('nonza', (element: Element) => {
      if (!element.is('features', NS_STREAMS)) return;
      if (element.getChild('ver', NS_ROSTER_VER)) this.versioned.add(session);
      if (element.getChild('sub', NS_PRE_APPROVAL)) this.preApproving.add(session);
    });
    session.refuseIncoming((stanza) => {
      if (!isForeignRosterPush(stanza, this.ctx.bare)) return false;
      this.ctx.log('warn', `${this.ctx.bare}: ignored a roster push from ${stanza.attrs.from}`);
      return true;
    });
    session.iqCallee.set(NS_ROSTER, 'query', ({ stanza }) => {
      const change = parseRosterPush(stanza, this.ctx.bare);
      if (change.kind === 'rejected') {
        // From our own server (foreign ones never get here), but not a push we can apply.
        this.ctx.log('warn', `${this.ctx.bare}: rejected ${change.reason}`);
        return stanzaError('modify', 'bad-request');
      }
      const { archive, accountId } = this.ctx;
      // The change and the version it brings commit together, so the cache always matches its version.
      archive.transaction(() => {
        if (change.kind === 'set') archive.roster.upsert(accountId, change.item);
        else archive.roster.remove(accountId, change.jid);
        if (change.ver !== undefined) archive.sync.setRosterVersion(accountId, change.ver);
      });
      if (change.kind === 'set') this.ctx.hooks.notify('roster.items', [change.item]);
      this.announce();
      return {};
    });
  }

  async online(session: Session): Promise<void> {
    const { archive, accountId, bare } = this.ctx;
    // "" asks for the whole roster with its version, where we hold none yet.
    const ver = this.versioned.has(session) ? (archive.sync.getRosterVersion(accountId) ?? '') : undefined;
    const result = parseRosterResult(await session.iqCaller.request(xml('iq', { type: 'get' }, rosterQuery(ver))), bare);
    if (result.kind === 'rejected') throw new Error(`rejected ${result.reason}`);
    if (result.kind === 'full') {
      archive.transaction(() => {
        archive.roster.replace(accountId, result.items);
        archive.sync.setRosterVersion(accountId, result.ver ?? null);
      });
      this.ctx.hooks.notify('roster.items', result.items);
    } else {
      this.ctx.log('info', `${bare}: roster unchanged since version ${ver ?? '(none)'}`);
    }
    this.announce();
  }

  /**
   * Adds a contact (or, if there, updates what `details` names) and asks to see their presence.
   * If they asked to see ours, that is approved; if not, it is pre-approved (RFC 6121 §3.4), so
   * adding someone is mutual without a second question, but only where the server says it
   * takes pre-approvals: elsewhere a `subscribed` to someone who did not ask is wasted, and
   * counts against limits like ejabberd's mod_pres_counter (5 a minute in Debian), which then
   * drops the requests that matter. A request the server refuses fails the command, in words.
   */
  async add(jid: string, details: ContactDetails = {}): Promise<void> {
    if (jid === this.ctx.bare) throw new CommandFailure('invalid-payload', 'That is your own address.', 'jid');
    const session = sessionFor(this.ctx);
    const item = this.item(jid);
    if (!item || details.name !== undefined || details.groups !== undefined) {
      const name = details.name ?? item?.name;
      await askServer(
        `Could not add ${jid}`,
        session.iqCaller.set(rosterSetQuery({ jid, ...(name ? { name } : {}), groups: uniqueGroups(details.groups ?? item?.groups ?? []) })),
      );
    }
    const subscription = item?.subscription ?? 'none';
    const theyAsked = this.ctx.archive.roster.listSubscriptionRequests(this.ctx.accountId).some((r) => r.jid === jid);
    const presences: Element[] = [];
    if (subscription !== 'to' && subscription !== 'both' && (!item?.ask || this.refused.has(jid))) presences.push(subscriptionPresence(jid, 'subscribe'));
    if (subscription !== 'from' && subscription !== 'both' && (theyAsked || (this.preApproving.has(session) && !item?.approved))) {
      presences.push(subscriptionPresence(jid, 'subscribed'));
    }
    if (presences.length === 0) return;
    const refusal = await this.sendPresences(session, jid, presences);
    if (!refusal) {
      this.refused.delete(jid);
      return;
    }
    this.refused.add(jid);
    const said = [refusal.condition, refusal.text].filter(Boolean).join(': ');
    throw new CommandFailure(
      'refused',
      `${jid} is in your contacts, but your server refused to send them your request${said ? ` (${said})` : ''}. Servers limit how many requests go out in a minute: add them again in a while.`,
    );
  }

  /**
   * Sends subscription presences to `jid` and returns the error our server answered one with,
   * if any. Presences get no answer when they go through, so a ping follows: our server
   * handles a stream's stanzas in order, and any refusal comes back before its reply.
   */
  private async sendPresences(session: Session, jid: string, presences: Element[]): Promise<{ condition?: string; text?: string } | undefined> {
    const ids = new Set<string>();
    let refusal: { condition?: string; text?: string } | undefined;
    const listen = (stanza: Element) => {
      if (!stanza.is('presence') || stanza.attrs.type !== 'error' || !ids.has(stanza.attrs.id ?? '') || stanza.attrs.from !== jid) return;
      const error = stanza.getChild('error');
      refusal = { condition: error?.getChildElements().find((e) => e.name !== 'text')?.name, text: error?.getChildText('text') ?? undefined };
    };
    // What the session's gate let through, like every stanza a feature hears.
    const stopListening = session.onStanza(listen);
    try {
      for (const presence of presences) {
        presence.attrs.id = randomUUID();
        ids.add(presence.attrs.id);
        await session.entity.send(presence);
      }
      const domain = this.ctx.bare.slice(this.ctx.bare.indexOf('@') + 1);
      await askServer(`Could not add ${jid}`, ask(session.iqCaller, 'get', domain, xml('ping', { xmlns: 'urn:xmpp:ping' }), { ownJids: [domain] }));
    } finally {
      stopListening();
    }
    return refusal;
  }

  async update(jid: string, name: string | undefined, groups: string[]): Promise<void> {
    if (!this.item(jid)) throw new CommandFailure('not-found', `${jid} is not in your contacts.`);
    const session = sessionFor(this.ctx);
    await askServer(`Could not change ${jid}`, session.iqCaller.set(rosterSetQuery({ jid, ...(name ? { name } : {}), groups: uniqueGroups(groups) })));
  }

  /** Removes a contact; the server cancels the subscriptions both ways. */
  async remove(jid: string): Promise<void> {
    if (!this.item(jid)) throw new CommandFailure('not-found', `${jid} is not in your contacts.`);
    const session = sessionFor(this.ctx);
    await askServer(`Could not remove ${jid}`, session.iqCaller.set(rosterRemoveQuery(jid)));
  }

  /**
   * Tells the window once per burst: logging in brings a presence per contact, and building
   * the whole list for each of them would read the roster a thousand times over.
   */
  private announce(): void {
    if (this.announcing) return;
    this.announcing = true;
    queueMicrotask(() => {
      this.announcing = false;
      this.ctx.emit('contacts.changed', { accountId: this.ctx.accountId, contacts: this.contacts() });
    });
  }
}

function uniqueGroups(groups: string[]): string[] {
  return [...new Set(groups.map((g) => g.trim()).filter(Boolean))];
}

export const rosterModule: FeatureModule<RosterFeature> = {
  name: 'roster',
  create: (ctx, account) => new RosterFeature(ctx, account.use(presenceModule)),
  events: ['contacts.changed'],
  commands: {
    'contacts.list': ({ accountId }, scope) => scope.account(accountId).feature(rosterModule).contacts(),
    'contacts.add': async ({ accountId, jid, name, groups }, scope) => {
      await scope.account(accountId).feature(rosterModule).add(jid, { ...(name !== undefined ? { name } : {}), ...(groups ? { groups } : {}) });
      return { accountId, jid };
    },
    'contacts.update': async ({ accountId, jid, name, groups }, scope) => {
      await scope.account(accountId).feature(rosterModule).update(jid, name, groups);
      return { accountId, jid };
    },
    'contacts.remove': async ({ accountId, jid }, scope) => {
      await scope.account(accountId).feature(rosterModule).remove(jid);
      return { accountId, jid };
    },
  },
};
