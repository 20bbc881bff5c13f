// Client state indication (XEP-0352): while no window of ours is visible the server may hold
// back what is not urgent (presence updates, chat states), saving battery and bandwidth;
// messages still arrive at once. Sent only when the server offers it on the stream.
import type { Element } from '@xmpp/xml';
import type { Session } from '../xmpp/session';
import { csiState, offersCsi } from '../xmpp/csi';
import type { Feature, FeatureContext, FeatureModule } from './feature';

export class CsiFeature implements Feature {
  private active = true;
  private offered = false;
  /** The state the server holds for the live session; a new session starts active (§5). */
  private told: boolean | undefined;

  constructor(private readonly ctx: FeatureContext) {}

  wire(session: Session): void {
    // The stream features after authentication are the last ones seen, and the ones that count.
    session.entity.on('nonza', (element: Element) => {
      const offered = offersCsi(element);
      if (offered !== null) this.offered = offered;
    });
  }

  async ready(session: Session): Promise<void> {
    this.told = true;
    await this.tell(session);
  }

  offline(): void {
    this.told = undefined;
  }

  setActive(active: boolean): void {
    this.active = active;
    const session = this.ctx.liveSession();
    if (session && this.told !== undefined) void this.tell(session);
  }

  private async tell(session: Session): Promise<void> {
    if (!this.offered || this.told === this.active) return;
    this.told = this.active;
    await session.entity.send(csiState(this.active)).catch((error: Error) => this.ctx.log('info', `${this.ctx.bare}: client state not sent: ${error.message}`));
  }
}

export const csiModule: FeatureModule<CsiFeature> = { name: 'csi', create: (ctx) => new CsiFeature(ctx) };
