/// <reference lib="dom" />
// Page side of the headless host: gives the renderer the same `window.heron` the Electron
// preload gives it, carried over a WebSocket to 127.0.0.1. The token arrives in the URL
// fragment (never sent to a server or a log), is kept for reloads of this tab, then removed
// from the address bar.
import type { CommandError, EventName, HeronApi, WireEvent, WireRequest, WireResponse } from '../../preload/contract';

const TOKEN_KEY = 'heron.host.token';

function takeToken(): string | null {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

class BridgeError extends Error {
  readonly field: string | undefined;
  constructor(
    readonly code: CommandError['code'],
    message: string,
    field?: string,
  ) {
    super(message);
    this.name = 'HeronError';
    this.field = field;
  }
}

function createBridge(token: string): HeronApi {
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let socket: WebSocket | undefined;
  let opened: Promise<WebSocket> | undefined;
  let retryMs = 250;

  const connect = (): Promise<WebSocket> => {
    opened ??= new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(token)}`);
      ws.onopen = () => {
        retryMs = 250;
        socket = ws;
        resolve(ws);
      };
      ws.onmessage = (message) => {
        const frame = JSON.parse(String(message.data)) as WireResponse | WireEvent;
        if ('event' in frame) {
          for (const listener of listeners.get(frame.event) ?? []) listener(frame.payload as never);
          return;
        }
        const call = pending.get(frame.id);
        pending.delete(frame.id);
        if (frame.ok) call?.resolve(frame.result);
        else call?.reject(new BridgeError(frame.error.code, frame.error.message, frame.error.field));
      };
      ws.onclose = () => {
        socket = undefined;
        opened = undefined;
        for (const call of pending.values()) call.reject(new BridgeError('internal', 'Lost the connection to Heron.'));
        pending.clear();
        reject(new BridgeError('internal', 'Cannot reach Heron.'));
        // Keep events flowing after a host restart on the same address.
        setTimeout(() => void connect().catch(() => {}), retryMs);
        retryMs = Math.min(retryMs * 2, 5_000);
      };
    });
    return opened;
  };
  void connect().catch(() => {});

  return {
    async invoke(command, payload) {
      const ws = socket ?? (await connect());
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        ws.send(JSON.stringify({ id, command, payload } satisfies WireRequest));
      });
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (payload: never) => void);
      listeners.set(event, set);
      return () => set.delete(listener as (payload: never) => void);
    },
  };
}

const token = takeToken();
if (token) {
  Object.defineProperty(window, 'heron', { value: Object.freeze(createBridge(token)), writable: false, configurable: false });
}
