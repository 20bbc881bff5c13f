import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../main/core/accounts/backoff';
import { classifyFailure, describeError } from '../../main/core/accounts/failures';
import { redirectTarget, resolveEndpoints } from '../../main/core/xmpp/endpoints';
import { ElementTooLargeError, PrematureStanzaError, RedirectRefusedError } from '../../main/core/xmpp/session';

describe('backoff', () => {
  it('grows exponentially, stays within jitter bounds and is capped', () => {
    const policy = { baseMs: 1000, capMs: 60_000 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 0, policy))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(3, 0.999, policy)).toBeLessThan(4000);
    expect(backoffDelay(30, 1, policy)).toBe(60_000);
  });
});

describe('classifyFailure', () => {
  it('never retries a wrong password or a replaced session, retries network trouble', () => {
    expect(classifyFailure({ name: 'SASLError', condition: 'not-authorized' })).toMatchObject({ state: 'auth-failed', retry: false });
    expect(classifyFailure({ name: 'StreamError', condition: 'conflict' })).toMatchObject({ state: 'error', retry: false });
    expect(classifyFailure({ code: 'ECONNREFUSED' })).toMatchObject({ state: 'error', retry: true, reason: 'The server refused the connection.' });
    expect(classifyFailure({ code: 'ENOTFOUND', hostname: 'nowhere.invalid' }).reason).toContain('nowhere.invalid');
    expect(classifyFailure({ name: 'InsecureStreamError', message: 'no TLS' })).toMatchObject({ state: 'error', retry: false });
    expect(classifyFailure(undefined)).toMatchObject({ state: 'error', retry: true });
  });

  it('says in words why the transport ended a connection, and retries it', () => {
    expect(classifyFailure(new PrematureStanzaError('message'))).toMatchObject({
      state: 'error',
      retry: true,
      reason: 'A <message> arrived before the connection was secured and logged in; someone on the network may be tampering with it.',
    });
    expect(classifyFailure(new ElementTooLargeError(1024 * 1024))).toMatchObject({
      retry: true,
      reason: 'The server sent more than 1 MiB in one piece; Heron closed the connection.',
    });
    expect(classifyFailure(new RedirectRefusedError('evil.example', 'it is not part of heron.test')).reason).toBe(
      'The server redirected to "evil.example", which Heron does not follow: it is not part of heron.test.',
    );
  });

  it('never logs an error as an empty line', () => {
    expect(describeError(Object.assign(new Error(), { name: 'TimeoutError' }))).toBe('TimeoutError: The server did not answer in time.');
    expect(describeError(new Error('boom'))).toBe('Error: boom');
  });
});

describe('resolveEndpoints', () => {
  it('tries a host override both ways TLS can start, the one its port suggests first', async () => {
    const override = (port?: number) => resolveEndpoints({ domain: 'x.test', host: '127.0.0.1', ...(port ? { port } : {}) }, async () => []);
    expect(await override(5333)).toEqual([
      { host: '127.0.0.1', port: 5333, directTls: false },
      { host: '127.0.0.1', port: 5333, directTls: true },
    ]);
    expect((await override()).map((e) => [e.port, e.directTls])).toEqual([
      [5222, false],
      [5222, true],
    ]);
    for (const port of [5223, 443]) expect((await override(port)).map((e) => e.directTls)).toEqual([true, false]);
  });

  it('orders SRV records by priority, direct TLS first, and skips "."', async () => {
    const records: Record<string, Array<{ name: string; port: number; priority: number; weight: number }>> = {
      '_xmpps-client._tcp.x.test': [{ name: 'tls.x.test', port: 443, priority: 10, weight: 0 }],
      '_xmpp-client._tcp.x.test': [
        { name: 'a.x.test', port: 5222, priority: 10, weight: 5 },
        { name: 'b.x.test', port: 5222, priority: 5, weight: 0 },
        { name: '.', port: 0, priority: 1, weight: 0 },
      ],
    };
    const endpoints = await resolveEndpoints({ domain: 'x.test' }, async (name) => records[name] ?? []);
    expect(endpoints.map((e) => e.host)).toEqual(['b.x.test', 'tls.x.test', 'a.x.test']);
  });

  it('falls back to the domain when DNS has nothing', async () => {
    const failing = async () => {
      throw Object.assign(new Error('nope'), { code: 'ENODATA' });
    };
    expect(await resolveEndpoints({ domain: 'x.test' }, failing)).toEqual([{ host: 'x.test', port: 5222, directTls: false }]);
  });
});

describe('redirectTarget (see-other-host)', () => {
  const current = { host: '127.0.0.1', port: 5222, directTls: false };

  it('follows to the account domain or a host under it, keeping how TLS starts', () => {
    expect(redirectTarget('heron.test', 'heron.test', current)).toEqual({ host: 'heron.test', port: 5222, directTls: false });
    expect(redirectTarget('Node2.Heron.Test:5290', 'heron.test', { ...current, directTls: true })).toEqual({ host: 'node2.heron.test', port: 5290, directTls: true });
  });

  it('refuses other domains, look-alikes, addresses and garbage, saying why', () => {
    expect(redirectTarget('evil.example', 'heron.test', current)).toBe('it is not part of heron.test');
    expect(redirectTarget('evilheron.test', 'heron.test', current)).toBe('it is not part of heron.test');
    expect(redirectTarget('heron.test.evil.example', 'heron.test', current)).toBe('it is not part of heron.test');
    expect(redirectTarget('10.0.0.1:5222', 'heron.test', current)).toBe('it is not part of heron.test');
    expect(redirectTarget('[::1]:5222', 'heron.test', current)).toBe('it is not part of heron.test');
    expect(redirectTarget('heron.test:99999', 'heron.test', current)).toBe('its port is out of range');
    expect(redirectTarget('', 'heron.test', current)).toBe('it is not a host name');
    expect(redirectTarget('a b:1:2', 'heron.test', current)).toBe('it is not a host name');
  });
});
