// In-band registration (XEP-0077) and the block list (XEP-0191) against a real Prosody: the
// form as the server offers it, an account created and logged in with, a taken name refused in
// words, a server that does not allow registration, and blocking then unblocking a sender.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';

describe('creating an account by in-band registration', () => {
  let open: TestServer;
  let closed: TestServer;
  let core: TestCore;
  let closedCore: TestCore;

  beforeAll(async () => {
    open = await startProsody({ allowRegistration: true });
    closed = await startProsody();
    core = await startCore({ server: open });
    closedCore = await startCore({ server: closed });
  });

  afterAll(async () => {
    await core?.core.close();
    await closedCore?.core.close();
    await open?.stop();
    await closed?.stop();
  });

  const at = (server: TestServer) => ({ domain: server.domain, host: server.host, port: server.port });

  it('shows the server form: its instructions and a username and a password to fill', async () => {
    const form = await core.call('registration.form', at(open));
    expect(form.instructions).toBeTruthy();
    const byVar = Object.fromEntries(form.fields.map((f) => [f.var, f]));
    expect(byVar.username).toMatchObject({ type: 'text-single', required: true });
    expect(byVar.password).toMatchObject({ type: 'text-private', required: true });
    // Prosody offers a data form: its FORM_TYPE comes back hidden, never shown.
    expect(byVar.FORM_TYPE).toMatchObject({ type: 'hidden', value: 'jabber:iq:register' });
  });

  it('creates the account, stores it with its password and logs in with it', async () => {
    const account = await core.call('registration.submit', { ...at(open), values: { username: 'Newbie', password: 'fresh-pw-1' } });
    expect(account.jid).toBe(`newbie@${open.domain}`);
    const online = await core.waitForState(account.id, (a) => a.connection.state === 'online');
    expect(online.connection.via).toMatchObject({ host: open.host, port: open.port });
  });

  it('says so in words when the name is taken, and adds nothing', async () => {
    await open.register('taken', 'someone-elses');
    const refused = core.call('registration.submit', { ...at(open), values: { username: 'taken', password: 'x-pw' } });
    await expect(refused).rejects.toMatchObject({
      error: { code: 'conflict', field: 'username', message: expect.stringContaining('“taken” is already taken') },
    });
    expect((await core.call('accounts.list', {})).map((a) => a.jid)).not.toContain(`taken@${open.domain}`);
  });

  it('says the server does not allow it when registration is off', async () => {
    const form = closedCore.call('registration.form', at(closed));
    await expect(form).rejects.toMatchObject({ error: { code: 'refused', message: expect.stringContaining('does not let new accounts be created') } });
  });

  it('refuses a server whose certificate this computer does not trust, before sending anything', async () => {
    // `core` trusts only the other server's test CA.
    const form = core.call('registration.form', at(closed));
    await expect(form).rejects.toMatchObject({ error: { code: 'refused', message: expect.stringContaining("certificate was rejected") } });
  });

  it('says what failed when the server cannot be reached', async () => {
    const nowhere = core.call('registration.form', { domain: open.domain, host: '127.0.0.1', port: 1 });
    await expect(nowhere).rejects.toMatchObject({
      error: { code: 'refused', message: `Could not reach ${open.domain}: The server refused the connection.` },
    });
  });
});

describe('the block list', () => {
  let server: TestServer;
  let alice: TestCore;
  let aliceId: string;

  beforeAll(async () => {
    server = await startProsody();
    const jid = await server.register('alice', 'alice-pw');
    await server.register('spammer', 'spam-pw');
    alice = await startCore({ server });
    aliceId = (await alice.call('accounts.add', accountFor(server, jid, 'alice-pw'))).id;
    await alice.waitForState(aliceId, (a) => a.connection.state === 'online');
  });

  afterAll(async () => {
    await alice?.core.close();
    await server?.stop();
  });

  it('lists whom the account blocked, and unblocks them on the server', async () => {
    const spammer = `spammer@${server.domain}`;
    expect(await alice.call('blocklist.list', { accountId: aliceId })).toEqual([]);
    await alice.call('requests.decide', { items: [{ accountId: aliceId, jid: spammer }], action: 'block' });
    expect(await alice.call('blocklist.list', { accountId: aliceId })).toEqual([spammer]);
    expect(await alice.call('blocklist.unblock', { accountId: aliceId, jid: spammer })).toEqual({ accountId: aliceId, jid: spammer });
    expect(await alice.call('blocklist.list', { accountId: aliceId })).toEqual([]);
  });
});
