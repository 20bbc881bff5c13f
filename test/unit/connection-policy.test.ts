import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../main/core/accounts/backoff';
import { classifyFailure } from '../../main/core/accounts/failures';
import { resolveEndpoints } from '../../main/core/xmpp/endpoints';

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
});

describe('resolveEndpoints', () => {
  it('uses the host override as given', async () => {
    expect(await resolveEndpoints({ domain: 'x.test', host: '127.0.0.1', port: 5333 }, async () => [])).toEqual([
      { host: '127.0.0.1', port: 5333, directTls: false },
    ]);
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
