// Noticing a dead connection (XEP-0199): after a spell of silence from the server we ping
// it, and if no answer comes in time we drop the socket, so the account shows the loss and
// reconnects instead of sitting "online" on a connection that a NAT or a sleeping router
// silently broke.
import xml from '@xmpp/xml';
import type { Session } from '../xmpp/session';
import { destroySocket } from '../xmpp/xmppjs-adapter';
import { parseJid } from '../xmpp/jid';
import type { Feature, FeatureContext, FeatureModule } from './feature';

const NS_PING = 'urn:xmpp:ping';

export type KeepalivePolicy = {
  /** Silence from the server after which we ping it. */
  idleMs: number;
  /** Silence in a room after which we ping our own occupant (XEP-0410, features/muc.ts); 15 min by default. */
  roomIdleMs?: number;
  /** How long the ping may go unanswered before the connection counts as dead. */
  timeoutMs: number;
};

export const defaultKeepalive: KeepalivePolicy = { idleMs: 60_000, timeoutMs: 20_000 };

/** The error the dropped connection reports: the account shows it as "did not answer in time". */
function noAnswer(ms: number): Error {
  return Object.assign(new Error(`The server did not answer a ping within ${Math.round(ms / 1000)} s.`), { name: 'TimeoutError' });
}

export class KeepaliveFeature implements Feature {
  /** We answer pings too (session.ts). */
  readonly discoFeatures = [NS_PING];
  private watched: Session | undefined;
  private lastHeard = 0;
  private timer: unknown;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly policy: KeepalivePolicy = defaultKeepalive,
  ) {}

  wire(session: Session): void {
    // Anything the server sends, stanza or stream-management nonza, proves the connection lives.
    session.entity.on('element', () => {
      if (this.watched === session) this.lastHeard = this.ctx.clock.now();
    });
  }

  async online(session: Session): Promise<void> {
    this.watched = session;
    this.lastHeard = this.ctx.clock.now();
    this.arm(this.policy.idleMs);
  }

  suspended(): void {
    this.offline();
  }

  resumed(session: Session): void {
    void this.online(session);
  }

  offline(): void {
    this.watched = undefined;
    this.disarm();
  }

  private arm(delay: number): void {
    this.disarm();
    this.timer = this.ctx.clock.setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, delay);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    const session = this.watched;
    if (!session) return;
    const silent = this.ctx.clock.now() - this.lastHeard;
    if (silent < this.policy.idleMs) return this.arm(this.policy.idleMs - silent);
    try {
      const ping = xml('iq', { type: 'get', to: parseJid(this.ctx.bare)!.domain }, xml('ping', { xmlns: NS_PING }));
      await session.iqCaller.request(ping, this.policy.timeoutMs);
    } catch (error) {
      // An error answer is still an answer; only silence means the connection is gone.
      if ((error as Error).name === 'TimeoutError' && this.watched === session) return this.drop(session);
    }
    if (this.watched === session) this.arm(this.policy.idleMs);
  }

  private drop(session: Session): void {
    this.ctx.log('warn', `${this.ctx.bare}: no answer to a ping in ${this.policy.timeoutMs} ms; dropping the connection`);
    this.watched = undefined;
    // Closing the stream politely would wait on the dead connection; destroying the socket makes
    // the session report the error and disconnect at once.
    destroySocket(session.entity, noAnswer(this.policy.timeoutMs));
  }
}

export const keepaliveModule: FeatureModule<KeepaliveFeature> = { name: 'keepalive', create: (ctx) => new KeepaliveFeature(ctx, ctx.keepalive) };
