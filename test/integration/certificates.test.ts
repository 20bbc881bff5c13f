// What Heron does with a server it cannot verify: it shows the certificate, trusts exactly that
// one when the user says so, refuses a different one again, and never talks without TLS.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, type TestCore } from '../support/cores';
import type { AccountView } from '../../preload/contract';

const isOnline = (a: AccountView) => a.connection.state === 'online' && !a.connection.syncing;
const isRefused = (a: AccountView) => a.connection.state === 'cert-rejected';

/** A server socket that records every byte a client sends and tells when the client has gone. */
function recorder(socket: net.Socket, received: Buffer[]): Promise<void> {
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

describe('a server certificate the system does not trust', () => {
  let server: TestServer;
  let core: TestCore;
  let jid: string;
  let accountId: string;

  beforeAll(async () => {
    server = await startProsody();
    jid = await server.register('gina', 'gina-pw');
    // No throwaway CA: to this core the test server's certificate is unknown.
    core = await startCore({ backoff: { baseMs: 100, capMs: 1_000 } });
  });

  afterAll(async () => {
    await core?.core.close();
    await server?.stop();
  });

  it('is shown to the user; trusting exactly that certificate connects', async () => {
    accountId = (await core.call('accounts.add', { jid, password: 'gina-pw', host: server.host, port: server.port })).id;
    const refused = await core.waitForState(accountId, isRefused);
    const fingerprint = server.certificate().fingerprint256;
    expect(refused.connection.certificate).toMatchObject({ subject: 'CN=heron.test', fingerprint, replacesTrusted: false });

    // Only the certificate the server presented can be trusted, not one named by the window.
    const other = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
    await expect(core.call('accounts.trustCertificate', { accountId, fingerprint: other })).rejects.toMatchObject({ error: { code: 'conflict' } });
    await expect(core.core.handle('accounts.trustCertificate', { accountId, fingerprint: 'yes' })).rejects.toMatchObject({
      error: { code: 'invalid-payload' },
    });

    const online = core.nextState(accountId, isOnline);
    await core.call('accounts.trustCertificate', { accountId, fingerprint });
    expect((await online).connection.certificate).toBeUndefined();
  });

  it('stays trusted after a restart of the app', async () => {
    await core.core.close();
    core = await startCore({ dataDir: core.dataDir, backoff: { baseMs: 100, capMs: 1_000 } });
    await core.waitForState(accountId, isOnline);
  });

  it('is refused again, with the new details, when the server presents a different one', async () => {
    const trusted = server.certificate().fingerprint256;
    const refused = core.nextState(accountId, isRefused);
    await server.renewCertificate();
    const view = await refused;
    const renewed = server.certificate().fingerprint256;
    expect(renewed).not.toBe(trusted);
    expect(view.connection.reason).toBe(
      "The server's certificate changed since you trusted it, and it is not signed by an authority this computer trusts.",
    );
    expect(view.connection.certificate).toMatchObject({ fingerprint: renewed, replacesTrusted: true });
    expect(view.connection.retryAt).toBeUndefined();

    // Trusting the new one replaces the old.
    const online = core.nextState(accountId, isOnline);
    await core.call('accounts.trustCertificate', { accountId, fingerprint: renewed });
    await online;
  });

  it('is refused over direct TLS before a byte of the stream is sent', async () => {
    const received: Buffer[] = [];
    let gone: Promise<void> | undefined;
    const fake = tls.createServer(
      { key: fs.readFileSync(path.join(server.dir, 'server.key')), cert: fs.readFileSync(path.join(server.dir, 'server.crt')) },
      (socket) => (gone = recorder(socket, received)),
    );
    const port = await listen(fake);
    const direct = await startCore({
      resolveSrv: async (name) => (name === '_xmpps-client._tcp.heron.test' ? [{ name: '127.0.0.1', port, priority: 0, weight: 0 }] : []),
    });
    try {
      const account = await direct.call('accounts.add', { jid, password: 'gina-pw' });
      await direct.waitForState(account.id, isRefused);
      await gone;
      expect(Buffer.concat(received).length).toBe(0);
    } finally {
      await direct.core.close();
      fake.close();
    }
  });
});

describe('a server that offers no encryption', () => {
  it('is refused before authentication: no login, no password on the wire', async () => {
    const received: Buffer[] = [];
    let gone: Promise<void> | undefined;
    // Speaks just enough XMPP: a stream header and features with PLAIN, but no <starttls/>.
    const fake = net.createServer((socket) => {
      gone = recorder(socket, received);
      socket.once('data', () =>
        socket.write(
          `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' ` +
            `id='plain' from='heron.test' version='1.0'><stream:features>` +
            `<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>` +
            `<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`,
        ),
      );
    });
    const port = await listen(fake);
    const core = await startCore();
    try {
      const account = await core.call('accounts.add', { jid: 'hank@heron.test', password: 'hank-secret', host: '127.0.0.1', port });
      const failed = await core.waitForState(account.id, (a) => a.connection.state === 'error');
      expect(failed.connection.reason).toBe('The server does not offer an encrypted connection; Heron never logs in without TLS.');
      expect(failed.connection.retryAt).toBeUndefined();
      await gone;
      const sent = Buffer.concat(received).toString();
      expect(sent).toMatch(/^<\?xml version='1.0'\?><stream:stream /); // it did open a stream…
      expect(sent).not.toMatch(/<auth|<iq|hank-secret/); // …and said nothing more
      expect(sent).not.toContain(Buffer.from('\0hank\0hank-secret').toString('base64'));
    } finally {
      await core.core.close();
      fake.close();
    }
  });
});
