// One account's connection lifecycle (DESIGN §3): offline → connecting → online, or
// waiting to retry with backoff, or a terminal auth-failed / error the user must act on.
// Protocol features plug in through hooks (features/feature.ts), composed here in order.
import type { Element } from '@xmpp/xml';
import type { AccountConnection, AccountView } from '../../../preload/contract';
import type { AccountRecord, Archive } from '../archive/archive';
import type { Vault } from '../vault';
import { resolveEndpoints, type SrvResolver } from '../xmpp/endpoints';
import type { Session, SessionOptions } from '../xmpp/session';
import { parseJid } from '../xmpp/jid';
import type { Clock, Emit, Feature, FeatureContext, Log } from '../features/feature';
import { RosterFeature } from '../features/roster';
import { PresenceFeature } from '../features/presence';
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
  private retryTimer: unknown;
  /** Bumped whenever a connection attempt should be abandoned. */
  private generation = 0;
  private readonly bare: string;
  readonly roster: RosterFeature;
  readonly presence: PresenceFeature;
  readonly chat: ChatFeature;
  readonly mam: MamFeature;
  readonly markers: MarkersFeature;
  readonly csi: CsiFeature;
  /** What our server and account offer, learnt on connect, and our contacts' capabilities. */
  private readonly disco: DiscoFeature;
  /**
   * In order: roster before presence (RFC 6121 §2.2); carbons on; disco before presence (it
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

  view(): AccountView {
    const { id, jid, host, port, enabled } = this.record;
    return { id, jid, ...(host ? { host } : {}), ...(port ? { port } : {}), enabled, connection: { ...this.connection } };
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
    this.setConnection({ state, attempt: 0 });
    this.notifyOffline();
    if (session) await session.entity.stop().catch(() => {});
  }

  private notifyOffline(): void {
    for (const feature of this.features) feature.offline?.();
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
          await this.online(session, current);
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

  private async online(session: Session, current: () => boolean): Promise<void> {
    for (const feature of this.features) {
      await feature.online?.(session);
      if (!current()) return;
    }
    this.setConnection({ state: 'online', attempt: 0, syncing: true });
    for (const feature of this.features) {
      if (!current()) return;
      // Catch-up and the outbox can fail on their own; the session stays up and the next connect retries.
      await feature.ready?.(session).catch((error: Error) => this.deps.log('warn', `${this.bare}: ${error.message}`));
    }
    if (current() && this.connection.state === 'online') this.setConnection({ state: 'online', attempt: 0 });
  }

  private wire(session: Session): void {
    const { entity } = session;
    let lastError: unknown;
    entity.on('error', (error: unknown) => {
      lastError = error;
      this.deps.log('warn', `${this.bare}: ${(error as Error).name}: ${(error as Error).message}`);
    });
    entity.on('disconnect', () => {
      if (this.session !== session || this.connection.state !== 'online') return;
      // An unexpected drop: forget this session and retry.
      this.session = undefined;
      this.notifyOffline();
      this.fail(lastError ? classifyFailure(lastError) : { state: 'error', reason: 'The connection was lost.', retry: true }, 0);
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
