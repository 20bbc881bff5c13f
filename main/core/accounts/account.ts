// One account's connection lifecycle (DESIGN §3): offline → connecting → online, or
// waiting to retry with backoff, or a terminal auth-failed / error the user must act on.
// It wires the protocol modules to the session and writes to the archive before emitting.
import { randomUUID } from 'node:crypto';
import type { Element } from '@xmpp/xml';
import type { AccountConnection, AccountView, ContactView, EventName, EventPayloads, MessageView } from '../../../preload/contract';
import type { AccountRecord, Archive, StoreResult } from '../archive/archive';
import type { Vault } from '../vault';
import { resolveEndpoints, type SrvResolver } from '../xmpp/endpoints';
import type { Session, SessionOptions } from '../xmpp/session';
import { NS_ROSTER, parseRosterPush, parseRosterResult, rosterQuery } from '../xmpp/roster';
import { PresenceBook, availablePresence, parsePresence } from '../xmpp/presence';
import { chatMessage, enableCarbons, parseMessage, receiptFor } from '../xmpp/chat';
import { parseJid } from '../xmpp/jid';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff';
import { classifyFailure, type Failure } from './failures';
import { MamCollector, catchUp, type CatchUpOutcome } from './catch-up';

export type Emit = <E extends EventName>(event: E, payload: EventPayloads[E]) => void;
export type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export type Clock = {
  now(): number;
  random(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type AccountDeps = {
  archive: Archive;
  vault: Vault;
  emit: Emit;
  log: Log;
  clock: Clock;
  resolveSrv: SrvResolver;
  openSession: (options: SessionOptions) => Session;
  trustedCAs?: string[];
  backoff?: BackoffPolicy;
};

export class Account {
  private connection: AccountConnection = { state: 'offline', attempt: 0 };
  private session: Session | undefined;
  private retryTimer: unknown;
  /** Bumped whenever a connection attempt should be abandoned. */
  private generation = 0;
  private readonly presence = new PresenceBook();
  private readonly bare: string;
  private readonly mam: MamCollector;
  /** Once this session has caught up, live archive ids move the catch-up cursor on. */
  private caughtUp = false;

  constructor(
    private record: AccountRecord,
    private readonly deps: AccountDeps,
  ) {
    this.bare = record.jid;
    this.mam = new MamCollector(record.jid, deps.log);
    if (!record.enabled) this.connection = { state: 'disabled', attempt: 0 };
  }

  get id(): string {
    return this.record.id;
  }

  view(): AccountView {
    const { id, jid, host, port, enabled } = this.record;
    return { id, jid, ...(host ? { host } : {}), ...(port ? { port } : {}), enabled, connection: { ...this.connection } };
  }

  contacts(): ContactView[] {
    return this.deps.archive.listRoster(this.id).map((item) => ({
      accountId: this.id,
      ...item,
      presence: this.presence.best(item.jid),
    }));
  }

  /** Connects now (also cutting a pending retry short). */
  connect(): void {
    if (!this.record.enabled) return;
    if (this.session || this.connection.state === 'connecting') return;
    this.clearRetry();
    void this.attempt();
  }

  /** Goes offline and stays there until `connect`. */
  async disconnect(state: 'offline' | 'disabled' = 'offline'): Promise<void> {
    this.generation++;
    this.clearRetry();
    const session = this.session;
    this.session = undefined;
    this.presence.clear();
    this.setConnection({ state, attempt: 0 });
    if (session) await session.entity.stop().catch(() => {});
  }

  /** Sends what waits in the outbox if we are online; otherwise it waits for the next session. */
  flushOutbox(): void {
    const session = this.session;
    if (!session || this.connection.state !== 'online') return;
    const pending = this.deps.archive.pendingOutgoing(this.id);
    for (const message of pending) this.transmit(session, message.peer, message.messageId, message.body);
  }

  /** Stores an outgoing message as pending (archive first), then sends it when it can. */
  send(conversationId: number, peer: string, body: string): MessageView {
    const messageId = randomUUID();
    const { message, conversation } = this.deps.archive.storeMessage(this.id, {
      peer,
      direction: 'out',
      sender: this.bare,
      messageId,
      originId: messageId,
      body,
      ts: this.deps.clock.now(),
      state: 'pending',
    });
    if (conversation.id !== conversationId) throw new Error('conversation mismatch');
    this.deps.emit('message.added', message);
    this.deps.emit('conversation.changed', conversation);
    if (this.session && this.connection.state === 'online') this.transmit(this.session, peer, messageId, body);
    return message;
  }

  private transmit(session: Session, peer: string, messageId: string, body: string): void {
    session.entity.send(chatMessage(peer, messageId, body)).then(
      () => {
        // Without stream management the write is the best confirmation we get.
        if (!session.streamManagement.enabled) this.advance(peer, messageId, 'sent');
      },
      (error: Error) => this.deps.log('warn', `send failed, will retry on reconnect: ${error.message}`),
    );
  }

  private advance(peer: string, messageId: string, state: 'sent' | 'delivered' | 'failed', error?: string): void {
    const updated = this.deps.archive.advanceOutgoing(this.id, peer, messageId, state, error);
    if (updated) this.deps.emit('message.updated', updated);
  }

  private setConnection(connection: AccountConnection): void {
    this.connection = connection;
    this.deps.log('info', `${this.bare}: ${connection.state}${connection.reason ? ` (${connection.reason})` : ''}`);
    this.deps.emit('account.changed', this.view());
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) this.deps.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async attempt(): Promise<void> {
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    const attempt = this.connection.attempt;
    this.setConnection({ state: 'connecting', attempt });
    try {
      const password = await this.deps.vault.getPassword(this.bare);
      if (!current()) return;
      if (password === null) {
        this.fail({ state: 'auth-failed', reason: 'No password is stored for this account.', retry: false }, attempt);
        return;
      }
      const jid = parseJid(this.bare)!;
      const { host, port } = this.record;
      const endpoints = await resolveEndpoints(
        { domain: jid.domain, ...(host ? { host } : {}), ...(port ? { port } : {}) },
        this.deps.resolveSrv,
      );
      let lastError: unknown = new Error('no server address');
      for (const endpoint of endpoints) {
        if (!current()) return;
        const session = this.deps.openSession({
          jid,
          password: async () => password,
          resource: this.record.resource,
          endpoint,
          ...(this.deps.trustedCAs ? { trustedCAs: this.deps.trustedCAs } : {}),
        });
        this.session = session;
        this.wire(session);
        try {
          await session.open();
          if (!current()) return;
          await this.online(session);
          return;
        } catch (error) {
          lastError = error;
          if (this.session === session) this.session = undefined;
          await session.entity.stop().catch(() => {});
          // Only a network failure is worth trying the next endpoint for.
          if (!classifyFailure(error).retry) break;
        }
      }
      throw lastError;
    } catch (error) {
      if (current()) this.fail(classifyFailure(error), attempt);
    }
  }

  private async online(session: Session): Promise<void> {
    const roster = parseRosterResult(await session.iqCaller.get(rosterQuery()));
    this.deps.archive.replaceRoster(this.id, roster);
    await session.iqCaller.set(enableCarbons()).catch((error: Error) => this.deps.log('info', `carbons unavailable: ${error.message}`));
    await session.entity.send(availablePresence());
    this.setConnection({ state: 'online', attempt: 0 });
    this.deps.emit('contacts.changed', { accountId: this.id, contacts: this.contacts() });
    this.flushOutbox();
    this.caughtUp = false;
    try {
      const outcome = await catchUp(
        { archive: this.deps.archive, accountId: this.id, ownBareJid: this.bare, collector: this.mam, now: this.deps.clock.now, log: this.deps.log },
        session,
      );
      this.deps.log('info', `${this.bare}: caught up from the server archive: ${outcome.stored.filter((s) => s.created).length} new messages`);
      this.announce(outcome);
      this.caughtUp = this.session === session;
    } catch (error) {
      // History stays as it is; the next connect tries again from the same cursor.
      this.deps.log('warn', `${this.bare}: catching up from the server archive failed: ${(error as Error).message}`);
    }
  }

  /** Tells the window what a catch-up stored, after it is committed. */
  private announce(outcome: CatchUpOutcome): void {
    const conversations = new Map<number, StoreResult['conversation']>();
    for (const { message, conversation, created } of outcome.stored) {
      if (!created) continue;
      this.deps.emit('message.added', message);
      conversations.set(conversation.id, conversation);
    }
    for (const id of conversations.keys()) this.deps.emit('conversation.changed', this.deps.archive.getConversation(id));
    for (const message of outcome.updated) this.deps.emit('message.updated', message);
  }

  private fail(failure: Failure, attempt: number): void {
    if (!failure.retry) {
      this.setConnection({ state: failure.state, reason: failure.reason, attempt: attempt + 1 });
      return;
    }
    const next = attempt + 1;
    const delay = backoffDelay(next, this.deps.clock.random(), this.deps.backoff ?? defaultBackoff);
    this.setConnection({ state: 'waiting', reason: failure.reason, retryAt: this.deps.clock.now() + delay, attempt: next });
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.attempt();
    }, delay);
  }

  private wire(session: Session): void {
    const { entity, iqCallee, streamManagement } = session;
    let lastError: unknown;
    entity.on('error', (error: unknown) => {
      lastError = error;
      this.deps.log('warn', `${this.bare}: ${(error as Error).message}`);
    });
    entity.on('disconnect', () => {
      if (this.session !== session || this.connection.state !== 'online') return;
      // An unexpected drop: forget this session and retry.
      this.session = undefined;
      this.presence.clear();
      this.deps.emit('contacts.changed', { accountId: this.id, contacts: this.contacts() });
      this.fail(lastError ? classifyFailure(lastError) : { state: 'error', reason: 'The connection was lost.', retry: true }, 0);
    });
    entity.on('stanza', (stanza: Element) => {
      if (this.session !== session) return;
      try {
        if (this.mam.take(stanza)) return;
        if (stanza.is('message')) this.onMessage(session, stanza);
        else if (stanza.is('presence')) this.onPresence(stanza);
      } catch (error) {
        this.deps.log('error', `${this.bare}: dropped a ${stanza.name} that failed to apply: ${(error as Error).message}`);
      }
    });
    iqCallee.set(NS_ROSTER, 'query', ({ stanza }) => {
      const change = parseRosterPush(stanza, this.bare);
      if (change.kind === 'rejected') {
        this.deps.log('warn', `${this.bare}: rejected ${change.reason}`);
        return {};
      }
      if (change.kind === 'set') this.deps.archive.upsertContact(this.id, change.item);
      else this.deps.archive.removeContact(this.id, change.jid);
      this.deps.emit('contacts.changed', { accountId: this.id, contacts: this.contacts() });
      return {};
    });
    streamManagement.on('ack', (stanza: Element) => {
      const id = stanza.attrs.id;
      const peer = parseJid(stanza.attrs.to)?.bare;
      if (stanza.is('message') && id && peer) this.advance(peer, id, 'sent');
    });
  }

  private onMessage(session: Session, stanza: Element): void {
    const parsed = parseMessage(stanza, { ownBareJid: this.bare, now: this.deps.clock.now() });
    switch (parsed.kind) {
      case 'chat': {
        const { message, conversation, created } = this.deps.archive.storeMessage(this.id, parsed.record);
        if (this.caughtUp && parsed.record.stanzaId) {
          this.deps.archive.setMamState(this.id, this.bare, { lastStanzaId: parsed.record.stanzaId.id, lastTs: parsed.record.ts, complete: true });
        }
        if (created) {
          this.deps.emit('message.added', message);
          this.deps.emit('conversation.changed', conversation);
        }
        if (parsed.receiptRequested && parsed.record.messageId) {
          void session.entity.send(receiptFor(parsed.replyTo, parsed.record.messageId)).catch(() => {});
        }
        return;
      }
      case 'receipt':
        return this.advance(parsed.peer, parsed.messageId, 'delivered');
      case 'error':
        return this.advance(parsed.peer, parsed.messageId, 'failed', parsed.text);
      case 'rejected':
        this.deps.log('warn', `${this.bare}: rejected message: ${parsed.reason}`);
        return;
      case 'ignored':
        return;
    }
  }

  private onPresence(stanza: Element): void {
    const parsed = parsePresence(stanza);
    if (parsed.kind === 'ignored' || parsed.kind === 'subscribe') return; // requests list: issue 3
    if (parsed.bare === this.bare) return; // our own other devices
    this.presence.apply(parsed);
    this.deps.emit('contacts.changed', { accountId: this.id, contacts: this.contacts() });
  }
}
