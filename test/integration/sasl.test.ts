import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, type TestCore } from '../support/cores';
import { startFakeSaslServer, type FakeSaslServer, type Misbehaviour } from '../support/fake-sasl-server';
import type { AccountView } from '../../preload/contract';

const loggedInWith = (core: TestCore, jid: string) =>
  core.logs.filter((line) => line.includes(`${jid}: logged in with `)).map((line) => line.replace(/^.*logged in with /, '').trim());

describe('SASL against a server that cannot prove it knows the password', () => {
  let server: TestServer;
  let core: TestCore;
  const fakes: FakeSaslServer[] = [];

  beforeAll(async () => {
    // The fake presents the test Prosody's own certificate: TLS is fine, only SASL is wrong.
    server = await startProsody();
    core = await startCore({ server });
  });

  afterAll(async () => {
    await core?.core.close();
    await Promise.all(fakes.map((fake) => fake.stop()));
    await server?.stop();
  });

  const fake = async (misbehave: Misbehaviour, mechanisms = ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'], bindings?: string[]) => {
    const started = await startFakeSaslServer({
      ...(bindings ? { bindings } : {}),
      domain: server.domain,
      key: fs.readFileSync(path.join(server.dir, 'server.key'), 'utf8'),
      cert: fs.readFileSync(path.join(server.dir, 'server.crt'), 'utf8'),
      mechanisms,
      misbehave,
    });
    fakes.push(started);
    return started;
  };

  const refusedBy = async (fakeServer: FakeSaslServer, local: string): Promise<AccountView> => {
    const account = await core.call('accounts.add', { jid: `${local}@${server.domain}`, password: 'secret', host: '127.0.0.1', port: fakeServer.port });
    return core.waitForState(account.id, (a) => a.connection.state === 'auth-failed');
  };

  it('refuses a <success/> whose server signature is wrong, preferring SCRAM-SHA-256 over SHA-1 and PLAIN', async () => {
    const mitm = await fake('wrong-signature');
    const failed = await refusedBy(mitm, 'wrongsig');
    expect(failed.connection.reason).toMatch(/could not prove it knows your password/);
    expect(failed.connection.plainRefused).toBeUndefined();
    expect(mitm.auths).toEqual(['SCRAM-SHA-256']);
    // No -PLUS was on offer, though Heron could bind: it says so (gs2 flag y) to catch a stripped -PLUS.
    expect(mitm.clientFirsts[0]).toMatch(/^y,,n=wrongsig,r=/);
    expect(loggedInWith(core, failed.jid)).toEqual([]);
  });

  it('refuses a <success/> without a server signature', async () => {
    const mitm = await fake('no-signature');
    const failed = await refusedBy(mitm, 'nosig');
    expect(failed.connection.reason).toMatch(/accepted the login without proving it knows your password/);
    expect(mitm.proofs).toHaveLength(1);
  });

  it('refuses a wrong server signature sent in a last challenge', async () => {
    const mitm = await fake('wrong-signature-in-challenge');
    const failed = await refusedBy(mitm, 'challenged');
    expect(failed.connection.reason).toMatch(/could not prove it knows your password/);
  });

  it('refuses a <success/> that skips the SCRAM challenge', async () => {
    const mitm = await fake('no-challenge');
    const failed = await refusedBy(mitm, 'skipped');
    expect(failed.connection.reason).toMatch(/accepted the login without checking the password/);
  });

  it('refuses a challenge whose nonce does not extend ours, before sending any proof', async () => {
    const mitm = await fake('foreign-nonce');
    const failed = await refusedBy(mitm, 'nonce');
    expect(failed.connection.reason).toMatch(/nonce does not extend Heron's/);
    expect(mitm.proofs).toEqual([]);
  });

  it('binds to the TLS session with tls-exporter where -PLUS and that binding are offered (TLS 1.3, XEP-0440)', async () => {
    const mitm = await fake('wrong-signature', ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'], ['tls-server-end-point', 'tls-exporter']);
    await refusedBy(mitm, 'bound');
    expect(mitm.auths).toEqual(['SCRAM-SHA-256-PLUS']);
    expect(mitm.clientFirsts[0]).toMatch(/^p=tls-exporter,,n=bound,r=/);
    // The fake terminates this TLS session itself, so its exporter matches; a relay's would not.
    expect(mitm.exporterMatches).toEqual([true]);
  });

  it('does not bind where -PLUS is offered on TLS 1.3 without naming a binding (as ejabberd 23.01 does)', async () => {
    const mitm = await fake('wrong-signature', ['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS']);
    await refusedBy(mitm, 'unnamed');
    expect(mitm.auths).toEqual(['SCRAM-SHA-1']);
    // "n", not "y": a server that offered -PLUS would refuse "y" as a downgrade.
    expect(mitm.clientFirsts[0]).toMatch(/^n,,n=unnamed,r=/);
  });
});

describe('PLAIN after SCRAM', () => {
  let honest: TestServer;
  let plainOnly: TestServer;
  let core: TestCore;
  let jid: string;

  beforeAll(async () => {
    // Debian's Prosody 0.12 stores SCRAM-SHA-1 credentials (internal_hashed): it offers
    // SCRAM-SHA-1 and PLAIN, no SHA-256. The second offers only PLAIN, as a man in the middle
    // would, with a certificate of its own that the user then trusts.
    [honest, plainOnly] = await Promise.all([startProsody(), startProsody({ disableSasl: ['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'] })]);
    jid = await honest.register('pat', 'pat-pw');
    await plainOnly.register('pat', 'pat-pw');
    await plainOnly.register('newbie', 'newbie-pw');
    core = await startCore({ server: honest });
  });

  afterAll(async () => {
    await core?.core.close();
    await Promise.all([honest?.stop(), plainOnly?.stop()]);
  });

  /** Points the account at the PLAIN-only server and trusts its certificate once shown. */
  const moveToPlainOnly = async (accountId: string) => {
    await core.call('accounts.update', { accountId, host: plainOnly.host, port: plainOnly.port });
    const shown = await core.nextState(accountId, (a) => a.connection.state === 'cert-rejected');
    await core.call('accounts.trustCertificate', { accountId, fingerprint: shown.connection.certificate!.fingerprint });
  };

  it('logs in to the real server with SCRAM; a server then offering only PLAIN is refused until the user allows it', async () => {
    const account = await core.call('accounts.add', { jid, password: 'pat-pw', host: honest.host, port: honest.port });
    await core.waitForState(account.id, (a) => a.connection.state === 'online');
    expect(loggedInWith(core, jid)).toEqual(['SCRAM-SHA-1']);

    // Never ahead of a refusal, and only for an account named as the contract says.
    await expect(core.call('accounts.allowPlain', { accountId: account.id })).rejects.toMatchObject({ error: { code: 'conflict' } });
    await expect(core.core.handle('accounts.allowPlain', { accountId: account.id, always: true })).rejects.toMatchObject({ error: { code: 'invalid-payload' } });

    await moveToPlainOnly(account.id);
    const refused = await core.nextState(account.id, (a) => a.connection.state === 'auth-failed');
    expect(refused.connection.plainRefused).toBe(true);
    expect(refused.connection.reason).toMatch(/offers only a login that shows it your password \(PLAIN\)/);
    expect(loggedInWith(core, jid)).toEqual(['SCRAM-SHA-1']);

    await core.call('accounts.allowPlain', { accountId: account.id });
    await core.nextState(account.id, (a) => a.connection.state === 'online');
    expect(loggedInWith(core, jid)).toEqual(['SCRAM-SHA-1', 'PLAIN']);

    // Back on a server with SCRAM, the allowance ends: PLAIN is refused again afterwards.
    await core.call('accounts.update', { accountId: account.id, host: honest.host, port: honest.port });
    await core.nextState(account.id, (a) => a.connection.state === 'online');
    await core.call('accounts.update', { accountId: account.id, host: plainOnly.host, port: plainOnly.port });
    const again = await core.nextState(account.id, (a) => a.connection.state === 'auth-failed');
    expect(again.connection.plainRefused).toBe(true);
    expect(loggedInWith(core, jid)).toEqual(['SCRAM-SHA-1', 'PLAIN', 'SCRAM-SHA-1']);
  });

  it('an account that never logged in with SCRAM may use PLAIN over TLS', async () => {
    const newbie = `newbie@${plainOnly.domain}`;
    const account = await core.call('accounts.add', { jid: newbie, password: 'newbie-pw', host: plainOnly.host, port: plainOnly.port });
    const shown = await core.waitForState(account.id, (a) => a.connection.state === 'cert-rejected');
    await core.call('accounts.trustCertificate', { accountId: account.id, fingerprint: shown.connection.certificate!.fingerprint });
    await core.nextState(account.id, (a) => a.connection.state === 'online');
    expect(loggedInWith(core, newbie)).toEqual(['PLAIN']);
  });
});

describe('SCRAM with a real server: SHA-256 where offered, bound to TLS where it can be', () => {
  // Debian's Prosody 0.12 offers SCRAM-SHA-256 only where it keeps the password itself
  // (internal_plain), and binds with tls-unique only, which exists in TLS 1.2 alone.
  let servers: Record<'sha256' | 'sha1Bound' | 'sha256Bound', TestServer>;
  let core: TestCore;

  beforeAll(async () => {
    const [sha256, sha1Bound, sha256Bound] = await Promise.all([
      startProsody({ authentication: 'internal_plain' }),
      startProsody({ tlsProtocol: 'tlsv1_2' }),
      startProsody({ authentication: 'internal_plain', tlsProtocol: 'tlsv1_2' }),
    ]);
    servers = { sha256: sha256!, sha1Bound: sha1Bound!, sha256Bound: sha256Bound! };
    core = await startCore();
  });

  afterAll(async () => {
    await core?.core.close();
    await Promise.all(Object.values(servers ?? {}).map((server) => server.stop()));
  });

  // Each server has its own throwaway CA: the user trusts its certificate once, as in the app.
  const loginTo = async (server: TestServer, local: string) => {
    const jid = await server.register(local, `${local}-pw`);
    const account = await core.call('accounts.add', { jid: `${local}@${server.domain}`, password: `${local}-pw`, host: server.host, port: server.port });
    const shown = await core.waitForState(account.id, (a) => a.connection.state === 'cert-rejected');
    await core.call('accounts.trustCertificate', { accountId: account.id, fingerprint: shown.connection.certificate!.fingerprint });
    await core.nextState(account.id, (a) => a.connection.state === 'online');
    return loggedInWith(core, jid);
  };

  it('logs in with SCRAM-SHA-256 over TLS 1.3 where the server offers it', async () => {
    expect(await loginTo(servers.sha256, 'sha')).toEqual(['SCRAM-SHA-256']);
  });

  // Prosody compares the binding data with its own view of the session ("Invalid channel binding value" otherwise).
  it('logs in with SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS over TLS 1.2, the server checking the tls-unique binding', async () => {
    expect(await loginTo(servers.sha1Bound, 'boundone')).toEqual(['SCRAM-SHA-1-PLUS']);
    expect(await loginTo(servers.sha256Bound, 'boundtwo')).toEqual(['SCRAM-SHA-256-PLUS']);
  });
});
