// The headless host's control endpoint: what `--open-uri` and the tests use; only with the token.
import http from 'node:http';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { controlHost, startHost, type Host } from '../../main/host/server';
import { loopStalls } from '../../main/host/loop-stalls';
import type { Core } from '../../main/core';

let host: Host | undefined;
afterEach(async () => host?.close());

async function start() {
  const calls: unknown[] = [];
  const core = { handle: async () => null, onEvent: () => () => {} } as unknown as Core;
  host = await startHost({
    core,
    rendererDir: os.tmpdir(),
    bridgeFile: os.devNull,
    token: 'the-token',
    control: {
      openUri: (text) => calls.push(['openUri', text]),
      clickNotification: (id) => calls.push(['click', id]),
      notifications: () => ({ decisions: [] }),
      eventLoop: () => ({ measuring: true, maxMs: 120, p99Ms: 5 }),
    },
  });
  return { host, calls };
}

describe('POST /control', () => {
  it('hands over a link, a click, and answers with the notification record', async () => {
    const { host, calls } = await start();
    expect(await controlHost(host.port, 'the-token', { openUri: 'xmpp:bob@example.org' })).toEqual({ ok: true });
    await controlHost(host.port, 'the-token', { clickNotification: 4 });
    expect(await controlHost(host.port, 'the-token', { notifications: true })).toEqual({ decisions: [] });
    expect(await controlHost(host.port, 'the-token', { eventLoop: true })).toEqual({ measuring: true, maxMs: 120, p99Ms: 5 });
    expect(calls).toEqual([
      ['openUri', 'xmpp:bob@example.org'],
      ['click', 4],
    ]);
  });

  it('refuses a wrong token, a foreign Host name, and what it does not know', async () => {
    const { host, calls } = await start();
    await expect(controlHost(host.port, 'guess', { openUri: 'xmpp:bob@example.org' })).rejects.toThrow('(403)');
    // A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) sends its own Host name.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: host.port, path: '/control', method: 'POST', headers: { Host: 'evil.example', Authorization: 'Bearer the-token' } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      request.on('error', reject);
      request.end('{"openUri":"xmpp:bob@example.org"}');
    });
    expect(status).toBe(421);
    await expect(controlHost(host.port, 'the-token', { nonsense: 1 } as never)).rejects.toThrow('(400)');
    expect(calls).toEqual([]);
  });
});

describe('loopStalls', () => {
  it('starts measuring when first asked, then answers the longest stall since the previous ask', async () => {
    const ask = loopStalls();
    expect(ask()).toEqual({ measuring: false, maxMs: 0, p99Ms: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const blockedUntil = performance.now() + 300;
    while (performance.now() < blockedUntil); // the main thread held, as a long synchronous task would
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stalled = ask();
    expect(stalled.measuring).toBe(true);
    expect(stalled.maxMs).toBeGreaterThanOrEqual(290);
    // Asked again: the stall before the previous ask is not counted twice.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ask().maxMs).toBeLessThan(290);
  });
});
