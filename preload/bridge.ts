// The preload's logic without Electron, so it is tested under Node. Main answers every command
// with an envelope instead of throwing, because ipcRenderer.invoke keeps only the message of
// an error thrown in main; the page turns a failed envelope back into an Error with its code.
import type { CommandError, EventName, HeronApi } from './contract';

export type Envelope = { ok: true; result: unknown } | { ok: false; error: CommandError };

/** The event frame main sends on the event channel. */
export type EventFrame = { event: EventName; payload: unknown };

/** The part of ipcRenderer the bridge uses. */
export interface IpcLike {
  invoke(channel: string, payload: unknown): Promise<unknown>;
  on(channel: string, listener: (event: unknown, frame: EventFrame) => void): void;
}

/** Channel names taken from the contract (see scripts/build.mjs for why they are passed in). */
export type Channels = { commands: Readonly<Record<string, string>>; events: string };

/** What crosses contextBridge: envelopes in, not exceptions, so nothing is lost on the way. */
export type RawBridge = {
  invoke(command: string, payload: unknown): Promise<Envelope>;
  on(event: string, listener: (payload: unknown) => void): () => void;
};

export function createRawBridge(ipc: IpcLike, channels: Channels): RawBridge {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let subscribed = false;

  function dispatch(_event: unknown, frame: EventFrame): void {
    for (const listener of listeners.get(frame.event) ?? []) {
      // One failing view must not starve the others of the event.
      try {
        listener(frame.payload);
      } catch (error) {
        console.error(`heron: a listener for ${frame.event} failed`, error);
      }
    }
  }

  return {
    async invoke(command, payload) {
      // Own-property lookup, so 'toString' or '__proto__' are not commands.
      const channel = Object.hasOwn(channels.commands, command) ? channels.commands[command] : undefined;
      if (channel === undefined) {
        return { ok: false, error: { code: 'unknown-command', message: `unknown command: ${String(command)}` } };
      }
      try {
        return (await ipc.invoke(channel, payload)) as Envelope;
      } catch (error) {
        // Main refused to answer (no handler, untrusted sender): still an envelope, so the page
        // gets the same kind of error as for any other failure.
        return { ok: false, error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
      }
    },
    on(event, listener) {
      if (!subscribed) {
        ipc.on(channels.events, dispatch);
        subscribed = true;
      }
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      // A fresh wrapper per subscription, so subscribing one function twice needs two unsubscribes.
      const entry = (payload: unknown) => listener(payload);
      set.add(entry);
      return () => void set.delete(entry);
    },
  };
}

/**
 * Runs in the page's own world (contextBridge.executeInMainWorld) and defines `window.heron`.
 * The Error must be made there: an Error passed through contextBridge arrives without its
 * `code` and `field`. Electron serializes this function, so it may use nothing from outside its body.
 */
export function installHeron(raw: RawBridge): void {
  const api: HeronApi = {
    invoke: (command, payload) =>
      raw.invoke(command, payload).then((envelope) => {
        if (envelope.ok) return envelope.result as never;
        throw Object.assign(new Error(envelope.error.message), envelope.error);
      }),
    on: (event, listener) => raw.on(event, listener as (payload: unknown) => void),
  };
  Object.defineProperty(globalThis, 'heron', { value: Object.freeze(api), enumerable: true });
}
