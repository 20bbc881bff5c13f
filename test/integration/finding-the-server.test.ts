// An account without a host override finds its server through DNS SRV (RFC 6120 §3.2), with
// direct TLS (XEP-0368) preferred. DNS is replaced by a resolver that points at the test server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProsody, type TestServer } from '../support/prosody';
import { startCore, type TestCore } from '../support/cores';
import type { SrvRecord } from '../../main/core/xmpp/endpoints';
import type { AccountView } from '../../preload/contract';

describe('finding the server', () => {
  let server: TestServer;
  let core: TestCore;
  let accountId: string;
  /** What DNS answers, by record name; edited between tests. */
  const records = new Map<string, SrvRecord[]>();

  const isOnline = (a: AccountView) => a.connection.state === 'online' && !a.connection.syncing;

  beforeAll(async () => {
    server = await startProsody();
    core = await startCore({
      server,
      resolveSrv: async (name) => {
        const answer = records.get(name);
        if (!answer) throw Object.assign(new Error(`queryNotFound ${name}`), { code: 'ENOTFOUND' });
        return answer;
      },
    });
  });

  afterAll(async () => {
    await core?.core.close();
    await server?.stop();
  });

  it('connects over direct TLS when DNS offers it beside STARTTLS at the same priority', async () => {
    records.set('_xmpps-client._tcp.heron.test', [{ name: '127.0.0.1', port: server.directTlsPort, priority: 10, weight: 0 }]);
    records.set('_xmpp-client._tcp.heron.test', [{ name: '127.0.0.1', port: server.port, priority: 10, weight: 0 }]);
    const jid = await server.register('ivy', 'ivy-pw');
    const added = await core.call('accounts.add', { jid, password: 'ivy-pw' });
    accountId = added.id;
    expect(added.host).toBeUndefined();
    const online = await core.waitForState(accountId, isOnline);
    expect(online.connection.via).toEqual({ host: '127.0.0.1', port: server.directTlsPort, directTls: true });
  });

  it('falls back to STARTTLS when the direct TLS endpoint is down', async () => {
    records.set('_xmpps-client._tcp.heron.test', [{ name: '127.0.0.1', port: await freePort(), priority: 10, weight: 0 }]);
    const online = core.nextState(accountId, isOnline);
    await core.call('accounts.reconnect', { accountId });
    expect((await online).connection.via).toEqual({ host: '127.0.0.1', port: server.port, directTls: false });
  });
});
