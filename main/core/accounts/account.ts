// One account's connection lifecycle (DESIGN §3): offline → connecting → online, or
// waiting to retry with backoff, or a state the user must act on (auth-failed, cert-rejected,
// error). Sleep and a lost network pause it without counting failures.
// Protocol features plug in through hooks (features/feature.ts), composed here in order.
import type { Element } from '@xmpp/xml';
import type { AccountConnection, AccountView, CertificateView, OwnPresence } from '../../../preload/contract';
import type { AccountRecord, Archive } from '../archive/archive';
import type { Vault } from '../vault';
import { resolveEndpoints, type Endpoint, type SrvResolver } from '../xmpp/endpoints';
import type { Session, SessionOptions } from '../xmpp/session';
import { parseJid } from '../xmpp/jid';
import type { Clock, Emit, Feature, FeatureContext, Log } from '../features/feature';
import { RosterFeature } from '../features/roster';
import { PresenceFeature } from '../features/presence';
import { SubscriptionsFeature } from '../features/subscriptions';
import { ChatFeature } from '../features/chat';
import { MamFeature } from '../features/mam';
import { DiscoFeature } from '../features/disco';
import { MdsFeature } from '../features/mds';
import { MarkersFeature } from '../features/markers';
import { KeepaliveFeature, type KeepalivePolicy } from '../features/keepalive';
import { CsiFeature } from '../features/csi';
import { VersionFeature } from '../features/version';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff';
import { classifyFailure, type Failure } from './failures';

const NO_NETWORK = 'No network connection. Heron reconnects as soon as it is back.';
/**
 * Errors of a connection that never opened. Only these leave a suspended session's entity
 * fit for another try: after a stream began, its negotiation may still be waiting on it.
 */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

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
  /** Ping timing; tests shorten it. */
  keepalive?: KeepalivePolicy;
};

export class Account {
  private connection: AccountConnection = { state: 'offline', attempt: 0 };
  private session: Session | undefined;
  /** A dropped session the server may still let us resume (XEP-0198), until `until`. */
  private suspended: { session: Session; via: Endpoint; until: number } | undefined;
  private retryTimer: unknown;
  /** Bumped whenever a connection attempt should be abandoned. */
  private generation = 0;
  /** The machine reports no network: nothing is attempted until it is back. */
  private networkDown = false;
  private readonly bare: string;
  readonly roster: RosterFeature;
  readonly presence: PresenceFeature;
  readonly subscriptions: SubscriptionsFeature;
  readonly chat: ChatFeature;
  readonly mam: MamFeature;
  readonly markers: MarkersFeature;
  readonly csi: CsiFeature;
  /** What our server and account offer, learnt on connect, and our contacts' capabilities. */
  private readonly disco: DiscoFeature;
  /**
   * In order: roster before presence (RFC 6121 §2.2); carbons on; subscription answers before
   * availability; disco before presence (it
   * notes the caps in presence that the presence feature then takes); then, once online, the
   * outbox, what our server offers, initial presence, the archive catch-up (which orders itself
   * around what arrives live meanwhile: see features/ordering.ts), and after it the read
   * positions of my other devices, which point at the messages it brings.
   */
  private readonly features: Feature[];

  constructor(
    private record: AccountRecord,
    private readonly deps: AccountDeps,
  ) {
    this.bare = record.jid;
    const ctx: FeatureContext = {
      accountId: record.id,
      bare: record.jid,
      archive: deps.archive,
      emit: deps.emit,
      log: deps.log,
      clock: deps.clock,
      liveSession: () => (this.connection.state === 'online' ? this.session : undefined),
    };
    this.presence = new PresenceFeature(ctx);
    this.roster = new RosterFeature(ctx, this.presence);
    this.subscriptions = new SubscriptionsFeature(ctx, this.roster);
    this.mam = new MamFeature(ctx);
    this.disco = new DiscoFeature(ctx, () => this.features.flatMap((feature) => feature.discoFeatures ?? []));
    const mds = new MdsFeature(ctx, this.disco);
    this.markers = new MarkersFeature(ctx, mds, this.disco);
    this.chat = new ChatFeature(ctx, this.markers);
    this.csi = new CsiFeature(ctx);
    this.presence.extensions.push(() => this.disco.caps());
    this.features = [
      this.roster,
      this.chat,
      this.subscriptions,
      this.disco,
      this.presence,
      this.csi,
      new KeepaliveFeature(ctx, deps.keepalive),
      this.mam,
      mds,
      this.markers,
      new VersionFeature(ctx),
    ];
    if (!record.enabled) this.connection = { state: 'disabled', attempt: 0 };
  }

  get id(): string {
    return this.record.id;
  }

  get jid(): string {
    return this.bare;
  }

  get enabled(): boolean {
    return this.record.enabled;
  }

  view(): AccountView {
    const { id, jid, host, port, enabled } = this.record;
    return { id, jid, ...(host ? { host } : {}), ...(port ? { port } : {}), enabled, connection: { ...this.connection }, presence: this.presence.current() };
  }

  /** Remembers the presence we show and sends it now when online. */
  async setPresence(presence: OwnPresence): Promise<AccountView> {
    await this.presence.set(presence);
    const view = this.view();
    this.deps.emit('account.changed', view);
    return view;
  }

  /** The certificate the last attempt was refused for, while the account is in that state. */
  refusedCertificate(): CertificateView | undefined {
    return this.connection.state === 'cert-rejected' ? this.connection.certificate : undefined;
  }

  /** Takes a new server override; the caller reconnects for it to apply. */
  setServer(host: string | null, port: number | null): void {
    this.record = { ...this.record, host, port };
  }

  async setEnabled(enabled: boolean): Promise<void> {
    this.record = { ...this.record, enabled };
    if (!enabled) return this.disconnect('disabled');
    if (this.connection.state !== 'disabled') return;
    this.setConnection(this.networkDown ? { state: 'waiting', reason: NO_NETWORK, attempt: 0 } : { state: 'offline', attempt: 0 });
    this.start();
  }

  /**
   * Connects unless a session is up or under way, the network is down, or the user must act
   * first (disabled, wrong password, untrusted certificate, replaced session). Cuts a pending
   * retry short: this is what start-up, resume and "network is back" call.
   */
  start(): void {
    if (!this.record.enabled || this.networkDown || this.session) return;
    if (this.connection.state !== 'offline' && this.connection.state !== 'waiting') return;
    this.clearRetry();
    void this.attempt();
  }

  /**
   * The user asked to connect now: whatever the state, start afresh. The old session closes
   * alongside; the new attempt does not wait for it.
   */
  reconnect(): void {
    void this.stopSession('close');
    if (!this.record.enabled) return;
    this.connection = { state: 'offline', attempt: 0 }; // not announced: "connecting" follows at once
    void this.attempt();
  }

  /** Goes offline (or disabled) and stays there until started; resolves once the session is closed. */
  async disconnect(state: 'offline' | 'disabled' = 'offline'): Promise<void> {
    const stopping = this.stopSession('close');
    this.setConnection({ state, attempt: 0 });
    await stopping;
  }

  /** The computer goes to sleep: offline without counting a failure, until `start`. */
  async suspend(): Promise<void> {
    await this.pause({ state: 'offline', reason: 'Paused while the computer sleeps.', attempt: this.connection.attempt }, 'close');
  }

  /**
   * The machine lost or regained its network. While it is down, nothing is attempted and no
   * attempt is counted; when it is back, connecting starts at once.
   */
  async networkChanged(up: boolean): Promise<void> {
    this.networkDown = !up;
    // Without a network the stream cannot be closed politely: drop the socket.
    if (up) this.start();
    else await this.pause({ state: 'waiting', reason: NO_NETWORK, attempt: this.connection.attempt }, 'abort');
  }

  /** Stops for a reason that is no failure of ours; states the user must act on stay as they are. */
  private async pause(connection: AccountConnection, how: 'close' | 'abort'): Promise<void> {
    const { state } = this.connection;
    if (!this.record.enabled || state === 'auth-failed' || state === 'cert-rejected' || state === 'error') return;
    const stopping = this.stopSession(how);
    this.setConnection(connection);
    await stopping;
  }

  /** Abandons the current attempt or session and any pending retry. */
  private async stopSession(how: 'close' | 'abort'): Promise<void> {
    this.generation++;
    this.clearRetry();
    const session = this.session;
    this.session = undefined;
    if (!session) return this.giveUpResumption();
    this.suspended = undefined;
    this.notifyOffline();
    if (how === 'abort') session.abort();
    else await session.entity.stop().catch(() => {});
  }

  private notifyOffline(): void {
    for (const feature of this.features) feature.offline?.();
  }

  /** The suspended session will not be resumed: it is over. */
  private giveUpResumption(): void {
    if (!this.suspended) return;
    this.suspended = undefined;
    this.notifyOffline();
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
    if (this.suspended && this.suspended.until <= this.deps.clock.now()) this.giveUpResumption();
    const suspended = this.suspended;
    try {
      if (suspended) return await this.resume(suspended, current);
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
          trustedCertificate: this.deps.archive.certificatePin(this.id),
        });
        this.session = session;
        this.wire(session);
        try {
          await session.open();
          if (!current()) return;
          await this.online(session, endpoint, current);
          return;
        } catch (error) {
          lastError = error;
          if (this.session === session) this.session = undefined;
          session.abort();
          // Only a network failure is worth trying the next endpoint for.
          if (!classifyFailure(error).retry) break;
        }
      }
      throw lastError;
    } catch (error) {
      if (current()) this.fail(classifyFailure(error), attempt);
    }
  }

  /**
   * Reconnects the suspended session and asks to resume it. Resumed, it is online again as it
   * was: presence known, nothing to catch up (the server replays what we missed). Refused, the
   * new stream carries a new session, set up as any other. A connection that could not be
   * made keeps it suspended for the next attempt; any other failure gives it up.
   */
  private async resume(suspended: { session: Session; via: Endpoint }, current: () => boolean): Promise<void> {
    const { session, via } = suspended;
    this.session = session;
    let resumed: boolean;
    try {
      resumed = await session.resume();
    } catch (error) {
      if (this.session === session) this.session = undefined;
      session.abort();
      if (!NEVER_CONNECTED.has((error as { code?: string }).code ?? '')) this.giveUpResumption();
      throw error;
    }
    this.suspended = undefined;
    if (!current()) return;
    if (!resumed) {
      this.deps.log('info', `${this.bare}: the server could not resume the session; starting a new one`);
      this.notifyOffline();
      return this.online(session, via, current);
    }
    this.deps.log('info', `${this.bare}: resumed the session`);
    for (const feature of this.features) feature.resumed?.(session);
    this.setConnection({ state: 'online', attempt: 0, via });
    this.chat.flushOutbox();
  }

  private fail(failure: Failure, attempt: number): void {
    if (!failure.retry) {
      const { state, reason, certificate } = failure;
      this.setConnection({ state, reason, attempt: attempt + 1, ...(certificate ? { certificate } : {}) });
      return;
    }
    if (this.networkDown) {
      // Without a network every attempt would fail: wait for it, and count nothing.
      this.setConnection({ state: 'waiting', reason: NO_NETWORK, attempt });
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

  private async online(session: Session, via: Endpoint, current: () => boolean): Promise<void> {
    for (const feature of this.features) {
      await feature.online?.(session);
      if (!current()) return;
    }
    this.setConnection({ state: 'online', attempt: 0, syncing: true, via });
    for (const feature of this.features) {
      if (!current()) return;
      // Catch-up and the outbox can fail on their own; the session stays up and the next connect retries.
      await feature.ready?.(session).catch((error: Error) => this.deps.log('warn', `${this.bare}: ${error.message}`));
    }
    if (!current()) return;
    this.chat.release(session);
    if (this.connection.state === 'online') this.setConnection({ state: 'online', attempt: 0, via });
  }

  private wire(session: Session): void {
    const { entity } = session;
    // A stream error says why the server ended the session; errors after it are its echoes.
    let cause: unknown;
    entity.on('error', (error: unknown) => {
      if ((cause as Error | undefined)?.name !== 'StreamError') cause = error;
      this.deps.log('warn', `${this.bare}: ${(error as Error).name}: ${(error as Error).message}`);
    });
    entity.on('disconnect', () => {
      // The entity outlives a resumed stream: a cause belongs to the connection it ended.
      const dropCause = cause;
      cause = undefined;
      if (this.session !== session || this.connection.state !== 'online') return;
      // An unexpected drop: forget this session and retry.
      this.session = undefined;
      const failure = dropCause ? classifyFailure(dropCause) : { state: 'error' as const, reason: 'The connection was lost.', retry: true };
      const { id, max } = session.streamManagement;
      // Resumable when the server gave the stream an id, and the catch-up is over (its hooks
      // would not run again on a resumed session).
      if (id && failure.retry && !this.connection.syncing && this.connection.via) {
        const until = max ? this.deps.clock.now() + Number(max) * 1000 : Infinity;
        this.suspended = { session, via: this.connection.via, until };
        for (const feature of this.features) feature.suspended?.();
      } else {
        this.notifyOffline();
      }
      this.fail(failure, 0);
    });
    entity.on('stanza', (stanza: Element) => {
      if (this.session !== session) return;
      try {
        for (const feature of this.features) if (feature.stanza?.(stanza, session)) return;
      } catch (error) {
        this.deps.log('error', `${this.bare}: dropped a ${stanza.name} that failed to apply: ${(error as Error).message}`);
      }
    });
    for (const feature of this.features) feature.wire?.(session);
  }
}
