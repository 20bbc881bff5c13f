// The roster (RFC 6121 §2): fetched on connect into the archive's roster cache, versioned
// (XEP-0237) so an unchanged roster costs one empty answer, kept current by pushes (only
// from our own account), edited by the user, shown with each contact's presence.
import xml, { type Element } from '@xmpp/xml';
import type { ContactView } from '../../../preload/contract';
import type { RosterItem } from '../archive/archive';
import { CommandFailure } from '../api';
import type { Session } from '../xmpp/session';
import {
  NS_ROSTER,
  NS_ROSTER_VER,
  parseRosterPush,
  parseRosterResult,
  rosterQuery,
  rosterRemoveQuery,
  rosterSetQuery,
} from '../xmpp/roster';
import { subscriptionPresence } from '../xmpp/subscriptions';
import { askServer, sessionFor } from './commands';
import type { Feature, FeatureContext } from './feature';
import type { PresenceFeature } from './presence';

const NS_STREAMS = 'http://etherx.jabber.org/streams';

export type ContactDetails = { name?: string; groups?: string[] };

export class RosterFeature implements Feature {
  private announcing = false;
  /** Sessions whose server offered roster versioning. */
  private readonly versioned = new WeakSet<Session>();
  /** Called with the items a fetch or push brought. */
  onItems: (items: RosterItem[]) => void = () => {};

  constructor(
    private readonly ctx: FeatureContext,
    private readonly presence: PresenceFeature,
  ) {
    presence.onChange = () => this.announce();
  }

  contacts(): ContactView[] {
    return this.ctx.archive.listRoster(this.ctx.accountId).map((item) => ({
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
    return this.ctx.archive.listRoster(this.ctx.accountId).find((item) => item.jid === jid);
  }

  wire(session: Session): void {
    session.entity.on('nonza', (element: Element) => {
      if (element.is('features', NS_STREAMS) && element.getChild('ver', NS_ROSTER_VER)) this.versioned.add(session);
    });
    session.iqCallee.set(NS_ROSTER, 'query', ({ stanza }) => {
      const change = parseRosterPush(stanza, this.ctx.bare);
      if (change.kind === 'rejected') {
        this.ctx.log('warn', `${this.ctx.bare}: rejected ${change.reason}`);
        return {};
      }
      const { archive, accountId } = this.ctx;
      // The change and the version it brings commit together, so the cache always matches its version.
      archive.transaction(() => {
        if (change.kind === 'set') archive.upsertContact(accountId, change.item);
        else archive.removeContact(accountId, change.jid);
        if (change.ver !== undefined) archive.setRosterVersion(accountId, change.ver);
      });
      if (change.kind === 'set') this.onItems([change.item]);
      this.announce();
      return {};
    });
  }

  async online(session: Session): Promise<void> {
    const { archive, accountId, bare } = this.ctx;
    // "" asks for the whole roster with its version, where we hold none yet.
    const ver = this.versioned.has(session) ? (archive.getRosterVersion(accountId) ?? '') : undefined;
    const result = parseRosterResult(await session.iqCaller.request(xml('iq', { type: 'get' }, rosterQuery(ver))), bare);
    if (result.kind === 'rejected') throw new Error(`rejected ${result.reason}`);
    if (result.kind === 'full') {
      archive.transaction(() => {
        archive.replaceRoster(accountId, result.items);
        archive.setRosterVersion(accountId, result.ver ?? null);
      });
      this.onItems(result.items);
    } else {
      this.ctx.log('info', `${bare}: roster unchanged since version ${ver ?? '(none)'}`);
    }
    this.announce();
  }

  /**
   * Adds a contact (or, if there, updates what `details` names), asks to see their presence,
   * and pre-approves their request to see ours (RFC 6121 §3.4): adding someone is mutual
   * without a second question. The server's push updates the cache.
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
    if (subscription !== 'to' && subscription !== 'both' && !item?.ask) await session.entity.send(subscriptionPresence(jid, 'subscribe'));
    if (subscription !== 'from' && subscription !== 'both') await session.entity.send(subscriptionPresence(jid, 'subscribed'));
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
