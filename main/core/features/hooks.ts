// How one account's features hear each other without holding each other's callbacks: a typed
// hub with any number of listeners per notification and of providers per contribution.
// Adding a listener never displaces another one's.
import type { Element } from '@xmpp/xml';
import type { RosterItem } from '../archive/archive';
import type { Log } from './feature';

/** What a feature announces, with what it carries. */
export type Notifications = {
  /** A contact's shown presence may have changed (all of them, when the session ended). */
  'presence.changed': undefined;
  /** Roster items a fetch or a push brought. */
  'roster.items': readonly RosterItem[];
};

/** What a feature gathers from every other one that provides it. */
export type Contributions = {
  /** Carried by every presence we broadcast besides our state, e.g. the caps (XEP-0115). */
  'presence.extensions': Element;
};

export class Hooks {
  private readonly listeners = new Map<keyof Notifications, Array<(payload: never) => void>>();
  private readonly providers = new Map<keyof Contributions, Array<() => unknown>>();

  constructor(private readonly log: Log) {}

  on<N extends keyof Notifications>(name: N, listener: (payload: Notifications[N]) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener as (payload: never) => void]);
  }

  /** Tells every listener in the order they came; one that throws is logged and the others still hear it. */
  notify<N extends keyof Notifications>(name: N, payload: Notifications[N]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        (listener as (payload: Notifications[N]) => void)(payload);
      } catch (error) {
        this.log('error', `a listener of ${name} failed: ${(error as Error).message}`);
      }
    }
  }

  provide<C extends keyof Contributions>(name: C, provider: () => Contributions[C]): void {
    this.providers.set(name, [...(this.providers.get(name) ?? []), provider]);
  }

  /** What every provider gives now, in the order they came. */
  collect<C extends keyof Contributions>(name: C): Array<Contributions[C]> {
    return (this.providers.get(name) ?? []).map((provider) => provider() as Contributions[C]);
  }
}
