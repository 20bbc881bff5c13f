// One account: the driver of its connection lifecycle (the decisions are in lifecycle.ts;
// here they are carried out: sessions opened and closed, timers set, features told) and the
// protocol features, which plug in through hooks (features/feature.ts), composed here in order.
import type { Element } from '@xmpp/xml';
import type { AccountView, CertificateView } from '../../../preload/contract';
import type { AccountRecord, Archive } from '../archive/archive';
import type { Vault } from '../vault';
import { resolveEndpoints, type Endpoint, type SrvResolver } from '../xmpp/endpoints';
import type { Session, SessionOptions } from '../xmpp/session';
import { parseJid } from '../xmpp/jid';
import type { AccountScope, Clock, Emit, Feature, FeatureContext, FeatureModule, Log } from '../features/feature';
import { Hooks } from '../features/hooks';
import { FEATURE_MODULES, makeFeatures } from '../features/modules';
import { presenceModule, type PresenceFeature } from '../features/presence';
import { chatModule, type ChatFeature } from '../features/chat';
import { mamModule, type MamFeature } from '../features/mam';
import type { KeepalivePolicy } from '../features/keepalive';
import { defaultBackoff, type BackoffPolicy } from './backoff';
import { classifyFailure, describeError, worthAnotherEndpoint } from './failures';
import { connectionView, initialState, transition, type Effect, type LifecycleEvent, type LifecycleState } from './lifecycle';

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

export class Account implements AccountScope {
  private lifecycle: LifecycleState;
  /** The session under way or live. */
  private session: Session | undefined;
  /** A dropped session the server may still let us resume (XEP-0198). */
  private suspended: { session: Session; via: Endpoint } | undefined;
  private retryTimer: unknown;
  private readonly bare: string;
  /** This account's feature of each module, in the priority order of FEATURE_MODULES. */
  private readonly made: Map<FeatureModule<object>, Feature>;
  private readonly features: Feature[];
  private readonly presence: PresenceFeature;
  private readonly chat: ChatFeature;
  private readonly mam: MamFeature;

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
      liveSession: () => (this.lifecycle.phase === 'online' ? this.session : undefined),
      hooks: new Hooks(deps.log),
      vault: deps.vault,
      ...(deps.keepalive ? { keepalive: deps.keepalive } : {}),
    };
    this.made = makeFeatures(FEATURE_MODULES, ctx);
    this.features = [...this.made.values()];
    this.presence = this.feature(presenceModule);
    this.chat = this.feature(chatModule);
    this.mam = this.feature(mamModule);
    this.lifecycle = initialState(record.enabled);
  }

  /** This account's instance of a module (see AccountScope). */
  feature<F extends object>(module: FeatureModule<F>): F {
    const feature = this.made.get(module);
    if (!feature) throw new Error(`the ${module.name} module is not in the list`);
    return feature as F;
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
    return { id, jid, ...(host ? { host } : {}), ...(port ? { port } : {}), enabled, connection: connectionView(this.lifecycle), presence: this.presence.current() };
  }

  /** The certificate the last attempt was refused for, while the account is in that state. */
  refusedCertificate(): CertificateView | undefined {
    return this.lifecycle.phase === 'cert-rejected' ? this.lifecycle.certificate : undefined;
  }

  /** Heron refused the last login because it would have been PLAIN after SCRAM (xmpp/sasl/mechanisms.ts). */
  refusedPlain(): boolean {
    return this.lifecycle.phase === 'auth-failed' && this.lifecycle.plainRefused === true;
  }

  /** Takes a new server override; the caller reconnects for it to apply. */
  setServer(host: string | null, port: number | null): void {
    this.record = { ...this.record, host, port };
  }

  async setEnabled(enabled: boolean): Promise<void> {
    this.record = { ...this.record, enabled };
    await this.dispatch({ type: enabled ? 'enable' : 'disable' });
  }

  /**
   * Connects unless a session is up or under way, the network is down, or the user must act
   * first (disabled, wrong password, untrusted certificate, replaced session). Cuts a pending
   * retry short: this is what start-up, resume and "network is back" call.
   */
  start(): void {
    void this.dispatch({ type: 'start' });
  }

  /**
   * The user asked to connect now: whatever the state, start afresh. The old session closes
   * alongside; the new attempt does not wait for it.
   */
  reconnect(): void {
    void this.dispatch({ type: 'reconnect' });
  }

  /** Goes offline and stays there until started; resolves once the session is closed. */
  async disconnect(): Promise<void> {
    await this.dispatch({ type: 'disconnect' });
  }

  /** The computer goes to sleep: offline without counting a failure, until `start`. */
  async suspend(): Promise<void> {
    await this.dispatch({ type: 'sleep' });
  }

  /**
   * The machine lost or regained its network. While it is down, nothing is attempted and no
   * attempt is counted; when it is back, connecting starts at once.
   */
  async networkChanged(up: boolean): Promise<void> {
    await this.dispatch({ type: up ? 'network-up' : 'network-down' });
  }

  /** Moves the lifecycle on and carries out its effects; resolves once a session it stops is closed. */
  private dispatch(event: LifecycleEvent, dropped?: Session): Promise<void> {
    const { state, effects } = transition(this.lifecycle, event, { now: this.deps.clock.now(), backoff: this.deps.backoff ?? defaultBackoff });
    this.lifecycle = state;
    const closing: Array<Promise<void>> = [];
    for (const effect of effects) {
      const done = this.perform(effect, dropped);
      if (done) closing.push(done);
    }
    return Promise.all(closing).then(() => {});
  }

  private perform(effect: Effect, dropped: Session | undefined): Promise<void> | void {
    switch (effect.type) {
      case 'announce': {
        const connection = connectionView(this.lifecycle);
        this.deps.log('info', `${this.bare}: ${connection.state}${connection.reason ? ` (${connection.reason})` : ''}`);
        this.deps.emit('account.changed', this.view());
        return;
      }
      case 'connect':
        return void this.attempt(effect.run);
      case 'resume':
        return void this.resume(effect.run);
      case 'stop':
        return this.stopSession(effect.how);
      case 'schedule-retry':
        this.retryTimer = this.deps.clock.setTimeout(() => {
          this.retryTimer = undefined;
          void this.dispatch({ type: 'retry-timer' });
        }, effect.delay);
        return;
      case 'cancel-retry':
        if (this.retryTimer !== undefined) this.deps.clock.clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        return;
      case 'keep-suspended':
        this.suspended = { session: dropped!, via: this.lifecycle.suspended!.via };
        for (const feature of this.features) feature.suspended?.();
        return;
      case 'end-session':
        return this.notifyOffline();
      case 'give-up-resumption':
        return this.giveUpResumption();
      case 'flush-outbox':
        return this.chat.flushOutbox();
    }
  }

  /** Ends the current attempt or session, or else the suspended one. */
  private async stopSession(how: 'close' | 'abort'): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return this.giveUpResumption();
    this.suspended = undefined;
    this.notifyOffline();
    if (how === 'abort') session.abort();
    else await session.close().catch(() => {});
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

  /** Reports the failure of attempt `run`: the lifecycle decides what follows. */
  private failed(run: number, error: unknown): void {
    const neverConnected = NEVER_CONNECTED.has((error as { code?: string } | undefined)?.code ?? '');
    void this.dispatch({ type: 'failed', run, failure: classifyFailure(error), neverConnected, random: this.deps.clock.random() });
  }

  private async attempt(run: number): Promise<void> {
    const current = () => run === this.lifecycle.run;
    try {
      const password = await this.deps.vault.getPassword(this.bare);
      if (!current()) return;
      if (password === null) {
        const failure = { state: 'auth-failed' as const, reason: 'No password is stored for this account.', retry: false };
        void this.dispatch({ type: 'failed', run, failure, neverConnected: true, random: 0 });
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
          sasl: {
            policy: () => ({ allowPlain: this.deps.archive.accounts.plainAllowed(this.id) }),
            authenticated: (mechanism) => {
              this.deps.log('info', `${this.bare}: logged in with ${mechanism}`);
              if (mechanism.startsWith('SCRAM-')) this.deps.archive.accounts.noteScramLogin(this.id);
            },
          },
          resource: this.record.resource,
          endpoint,
          ...(this.deps.trustedCAs ? { trustedCAs: this.deps.trustedCAs } : {}),
          trustedCertificate: this.deps.archive.accounts.certificatePin(this.id),
        });
        this.session = session;
        this.wire(session);
        try {
          await session.open();
          if (!current()) return;
          await this.online(session, endpoint, run);
          return;
        } catch (error) {
          lastError = error;
          if (this.session === session) this.session = undefined;
          session.abort();
          // Only a network failure is worth trying the next endpoint for.
          if (!worthAnotherEndpoint(error)) break;
        }
      }
      throw lastError;
    } catch (error) {
      if (current()) this.failed(run, error);
    }
  }

  /**
   * Reconnects the suspended session and asks to resume it. Resumed, it is online again as it
   * was: presence known, nothing to catch up (the server replays what we missed). Refused, the
   * new stream carries a new session, set up as any other. Whether a failure keeps it
   * suspended for the next attempt is the lifecycle's to decide.
   */
  private async resume(run: number): Promise<void> {
    const current = () => run === this.lifecycle.run;
    const { session, via } = this.suspended!;
    this.session = session;
    let resumed: boolean;
    try {
      resumed = await session.resume();
    } catch (error) {
      if (this.session === session) this.session = undefined;
      session.abort();
      if (current()) this.failed(run, error);
      return;
    }
    if (!current()) return;
    if (!resumed) {
      this.deps.log('info', `${this.bare}: the server could not resume the session; starting a new one`);
      // Features hear the old session is over (give-up-resumption), then set up the new one.
      void this.dispatch({ type: 'resume-refused', run });
      try {
        return await this.online(session, via, run);
      } catch (error) {
        if (this.session === session) this.session = undefined;
        session.abort();
        if (current()) this.failed(run, error);
        return;
      }
    }
    this.suspended = undefined;
    this.deps.log('info', `${this.bare}: resumed the session`);
    for (const feature of this.features) feature.resumed?.(session);
    void this.dispatch({ type: 'resumed', run, via });
  }

  private async online(session: Session, via: Endpoint, run: number): Promise<void> {
    const current = () => run === this.lifecycle.run;
    // A drop while the online hooks run would leave them waiting for answers that never come,
    // and the account "online" on a dead stream: it fails the attempt instead, which retries.
    let onDrop!: () => void;
    const dropped = new Promise<never>((_, reject) => {
      onDrop = () => reject(Object.assign(new Error('The connection was lost.'), { code: 'ECONNRESET' }));
    });
    dropped.catch(() => {});
    session.entity.once('disconnect', onDrop);
    try {
      for (const feature of this.features) {
        await Promise.race([feature.online?.(session), dropped]);
        if (!current()) return;
      }
    } finally {
      session.entity.off('disconnect', onDrop);
    }
    void this.dispatch({ type: 'connected', run, via });
    for (const feature of this.features) {
      if (!current()) return;
      // Catch-up and the outbox can fail on their own; the session stays up and the next connect retries.
      await feature.ready?.(session).catch((error: Error) => this.deps.log('warn', `${this.bare}: ${describeError(error)}`));
    }
    if (!current()) return;
    this.chat.release(session, this.mam.readBackTo);
    void this.dispatch({ type: 'synced', run });
  }

  private wire(session: Session): void {
    const { entity } = session;
    // A stream error says why the server ended the session; errors after it are its echoes.
    let cause: unknown;
    entity.on('error', (error: unknown) => {
      if ((cause as Error | undefined)?.name !== 'StreamError') cause = error;
      this.deps.log('warn', `${this.bare}: ${describeError(error)}`);
    });
    entity.on('disconnect', () => {
      // The entity outlives a resumed stream: a cause belongs to the connection it ended.
      const dropCause = cause;
      cause = undefined;
      if (this.session !== session || this.lifecycle.phase !== 'online') return;
      // An unexpected drop: forget this session; the lifecycle decides whether to keep it for resumption.
      this.session = undefined;
      const failure = dropCause ? classifyFailure(dropCause) : { state: 'error' as const, reason: 'The connection was lost.', retry: true };
      const { id, max } = session.streamManagement;
      const resumableUntil = id ? (max ? this.deps.clock.now() + Number(max) * 1000 : Infinity) : undefined;
      void this.dispatch({ type: 'dropped', failure, ...(resumableUntil !== undefined ? { resumableUntil } : {}), random: this.deps.clock.random() }, session);
    });
    // Only stanzas of an established session (encrypted, authenticated, bound) come here.
    session.onStanza((stanza: Element) => {
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
