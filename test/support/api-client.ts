// Drives a running headless host over its WebSocket exactly as the page's bridge does
// (token in the URL, our origin), for tests that need the core in its own process.
import WebSocket from 'ws';
import type { CommandName, CommandPayload, CommandResults, WireRequest } from '../../preload/contract';

export type ApiClient = {
  invoke<C extends CommandName>(command: C, payload: CommandPayload<C>): Promise<CommandResults[C]>;
  close(): void;
};

export async function connectApi(hostUrl: string): Promise<ApiClient> {
  const url = new URL(hostUrl);
  const token = new URLSearchParams(url.hash.slice(1)).get('token') ?? '';
  const ws = new WebSocket(`ws://${url.host}/api?token=${encodeURIComponent(token)}`, { origin: url.origin });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { id?: number; ok?: boolean; result?: unknown; error?: { message: string } };
    if (frame.id === undefined) return; // an event
    const call = pending.get(frame.id);
    pending.delete(frame.id);
    if (frame.ok) call?.resolve(frame.result);
    else call?.reject(new Error(frame.error?.message ?? 'failed'));
  });
  ws.on('close', () => {
    for (const call of pending.values()) call.reject(new Error('host connection closed'));
    pending.clear();
  });
  return {
    invoke: (command, payload) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        ws.send(JSON.stringify({ id, command, payload } satisfies WireRequest));
      }),
    close: () => ws.terminate(),
  };
}
