// The transport against what the network or a server may throw at it: stanzas written into
// the stream before TLS by someone on the path (through an injecting proxy in front of a real
// Prosody), an element far past the size limit (from a stand-in server, since Prosody's own
// limit stops it), and stream management's count compared with the server's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, type TestCore } from '../support/cores';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { hugeMessage, startFakeXmppServer, writeAll, type FakeXmppServer } from '../support/fake-xmpp-server';
import { befriend, connectRaw } from '../support/raw-client';
import { until } from '../support/until';
import { createSession } from '../../main/core/xmpp/session';

describe('nothing before the session', () => {
  let server: TestServer;
  let core: TestCore;
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    server = await startProsody();
    core = await startCore({ server, backoff: { baseMs: 200, capMs: 2_000 } });
  });

  afterAll(async () => {
    await core?.core.close();
    for (const proxy of proxies) await proxy.close();
    await server?.stop();
  });

  const injections: Array<[string, (jid: string) => string]> = [
    ['a message asking for a receipt', (jid) => `<message from='mallory@heron.test/x' to='${jid}' type='chat' id='inj1'><body>Please pay this invoice</body><request xmlns='urn:xmpp:receipts'/></message>`],
    ['a from-less roster push', () => `<iq type='set' id='push1'><query xmlns='jabber:iq:roster'><item jid='mallory@heron.test' name='Your bank' subscription='both'/></query></iq>`],
    [
      'a carbon claiming our JID',
      (jid) =>
        `<message from='${jid}' to='${jid}/heron'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message from='mallory@heron.test/x' to='${jid}' type='chat' id='inj2'><body>Forged copy</body></message></forwarded></received></message>`,
    ],
    ['a version query', () => `<iq type='get' id='v1' from='mallory@heron.test/x'><query xmlns='jabber:iq:version'/></iq>`],
  ];

  it.each(injections)('%s written in before <proceed/> is stored nowhere, answered by nothing, and ends the connection', async (_name, stanza) => {
    const local = `victim${proxies.length}`;
    const jid = await server.register(local, 'pw');
    const proxy = await startTcpProxy(server.port, server.host, { inject: { after: '</stream:features>', text: stanza(jid) } });
    proxies.push(proxy);
    const account = await core.call('accounts.add', { jid, password: 'pw', host: server.host, port: proxy.port });

    const failed = await core.waitForState(account.id, (a) => a.connection.state === 'waiting');
    expect(failed.connection.reason).toMatch(/^A <(message|iq)> arrived before the connection was secured and logged in; someone on the network may be tampering with it\.$/);
    // The next attempt meets the same tampering: still never online.
    await core.nextState(account.id, (a) => a.connection.state === 'waiting' && a.connection.attempt >= 2);
    await core.call('accounts.setEnabled', { accountId: account.id, enabled: false });

    expect(core.events.some((e) => e.event === 'account.changed' && (e.payload as { id: string; connection: { state: string } }).id === account.id && (e.payload as { connection: { state: string } }).connection.state === 'online')).toBe(false);
    // Only negotiation went out: the stream header, perhaps <starttls/>, nothing else at all.
    const wrote = proxy.clientWrote();
    expect(wrote.length).toBeGreaterThanOrEqual(2);
    for (const text of wrote) {
      const rest = text.replace(/^<\?xml version='1\.0'\?><stream:stream [^>]*>/, '').replace(/^<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"\/>/, '');
      expect(rest, text).toBe('');
    }
    expect((await core.call('conversations.list', {})).filter((c) => c.accountId === account.id)).toEqual([]);
    expect(await core.call('contacts.list', { accountId: account.id })).toEqual([]);
    expect((await core.call('messages.search', { query: 'invoice OR Forged', accountId: account.id, limit: 10 })).hits).toEqual([]);
  });
});

describe('a stanza inside TLS but before the login', () => {
  let fake: FakeXmppServer;
  let core: TestCore;

  beforeAll(async () => {
    fake = await startFakeXmppServer('heron.test', (socket) => {
      socket.write(`<message from='mallory@heron.test/x' type='chat' id='early'><body>Before you even logged in</body></message>`);
    });
    core = await startCore({ server: { caPem: fake.caPem } as TestServer, backoff: { baseMs: 200, capMs: 2_000 } });
  });

  afterAll(async () => {
    await core?.core.close();
    await fake?.close();
  });

  it('ends the connection too: the server is not authenticated to us yet, nor we to it', async () => {
    const account = await core.call('accounts.add', { jid: 'alice@heron.test', password: 'pw', host: '127.0.0.1', port: fake.port });
    const waiting = await core.waitForState(account.id, (a) => a.connection.state === 'waiting' && /arrived before/.test(a.connection.reason ?? ''));
    await core.call('accounts.setEnabled', { accountId: account.id, enabled: false });
    expect(waiting.connection.reason).toBe('A <message> arrived before the connection was secured and logged in; someone on the network may be tampering with it.');
    expect((await core.call('conversations.list', {})).filter((c) => c.accountId === account.id)).toEqual([]);
    // Nothing but the stream header went out on it.
    const [wrote] = fake.received();
    expect(wrote).toMatch(/^<\?xml version='1\.0'\?><stream:stream [^>]*>$/);
  });
});

describe('the stanza that binds the session', () => {
  const NS = { sasl: 'urn:ietf:params:xml:ns:xmpp-sasl', bind: 'urn:ietf:params:xml:ns:xmpp-bind' };
  const message = `<message from='bob@heron.test/x' to='alice@heron.test/r' type='chat' id='m1'><body>right after binding</body></message>`;
  /** A stand-in server that logs anyone in (PLAIN), binds, and writes `around(bindResult)` for the answer. */
  const loggingIn = (around: (bindResult: string) => string) =>
    startFakeXmppServer('heron.test', (socket) => {
      socket.write(`<stream:features><mechanisms xmlns='${NS.sasl}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`);
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        if (pending.includes('<auth')) {
          pending = '';
          socket.write(`<success xmlns='${NS.sasl}'/>`);
        } else if (pending.includes('<stream:stream')) {
          pending = '';
          socket.write(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s2' from='heron.test' version='1.0'><stream:features><bind xmlns='${NS.bind}'/></stream:features>`);
        } else if (pending.includes(NS.bind)) {
          const id = /<iq [^>]*\bid="([^"]+)"/.exec(pending)?.[1];
          pending = '';
          socket.write(around(`<iq type='result' id='${id}'><bind xmlns='${NS.bind}'><jid>alice@heron.test/r</jid></bind></iq>`));
        }
      });
    });
  const fakes: FakeXmppServer[] = [];
  afterAll(async () => {
    for (const fake of fakes) await fake.close();
  });
  const sessionTo = (fake: FakeXmppServer) => {
    fakes.push(fake);
    const session = createSession({
      jid: { local: 'alice', domain: 'heron.test' },
      password: async () => 'pw',
      // A stand-in server offering PLAIN to an account that never used SCRAM.
      sasl: { policy: () => ({ allowPlain: true }), authenticated: () => {} },
      resource: 'r',
      endpoint: { host: '127.0.0.1', port: fake.port, directTls: true },
      trustedCAs: [fake.caPem],
    });
    session.entity.on('error', () => {});
    const heard: string[] = [];
    session.onStanza((stanza) => heard.push(stanza.attrs.id ?? ''));
    return { session, heard };
  };

  it('lets through a stanza that follows the bind result in the same chunk: a peer cannot end our session so', async () => {
    const { session, heard } = sessionTo(await loggingIn((result) => result + message));
    await session.open();
    await until('the message after binding', () => (heard.includes('m1') ? true : undefined));
    session.abort();
  });

  it('refuses one that comes after the login but before the bind result', async () => {
    const { session, heard } = sessionTo(await loggingIn((result) => message + result));
    await expect(session.open()).rejects.toMatchObject({ name: 'PrematureStanzaError' });
    expect(heard).toEqual([]);
  });
});

describe('a redirect written in before TLS', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let core: TestCore;

  beforeAll(async () => {
    server = await startProsody();
    const redirect = `<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>heron.test:${server.port}</see-other-host></stream:error>`;
    proxy = await startTcpProxy(server.port, server.host, { inject: { after: '</stream:features>', text: redirect } });
    core = await startCore({ server, backoff: { baseMs: 200, capMs: 2_000 } });
  });

  afterAll(async () => {
    await core?.core.close();
    await proxy?.close();
    await server?.stop();
  });

  it('is not followed, even to our own domain', async () => {
    const jid = await server.register('pia', 'pw');
    const account = await core.call('accounts.add', { jid, password: 'pw', host: server.host, port: proxy.port });
    const waiting = await core.waitForState(account.id, (a) => a.connection.state === 'waiting');
    await core.call('accounts.setEnabled', { accountId: account.id, enabled: false });
    expect(waiting.connection.reason).toBe(`The server redirected to "heron.test:${server.port}", which Heron does not follow: it came before the connection was encrypted.`);
  });
});

describe('a host override', () => {
  let server: TestServer;
  let core: TestCore;

  beforeAll(async () => {
    server = await startProsody();
    core = await startCore({ server });
  });

  afterAll(async () => {
    await core?.core.close();
    await server?.stop();
  });

  it('that names a direct TLS port connects there, though the port says nothing of it', async () => {
    const jid = await server.register('olga', 'pw');
    const account = await core.call('accounts.add', { jid, password: 'pw', host: server.host, port: server.directTlsPort });
    const online = await core.waitForState(account.id, (a) => a.connection.state === 'online');
    expect(online.connection.via).toEqual({ host: server.host, port: server.directTlsPort, directTls: true });
  });
});

describe('a redirect (see-other-host)', () => {
  let fake: FakeXmppServer;
  let core: TestCore;

  beforeAll(async () => {
    fake = await startFakeXmppServer('heron.test', (socket) => {
      socket.end(`<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>xmpp.evil.example:5222</see-other-host></stream:error></stream:stream>`);
    });
    core = await startCore({ server: { caPem: fake.caPem } as TestServer, backoff: { baseMs: 200, capMs: 2_000 } });
  });

  afterAll(async () => {
    await core?.core.close();
    await fake?.close();
  });

  it('to another domain is not followed, and the user is told where it pointed', async () => {
    const account = await core.call('accounts.add', { jid: 'alice@heron.test', password: 'pw', host: '127.0.0.1', port: fake.port });
    const waiting = await core.waitForState(account.id, (a) => a.connection.state === 'waiting');
    expect(waiting.connection.reason).toBe('The server redirected to "xmpp.evil.example:5222", which Heron does not follow: it is not part of heron.test.');
    await core.call('accounts.setEnabled', { accountId: account.id, enabled: false });
    expect(core.logs.join('\n')).not.toMatch(/evil\.example.*(ENOTFOUND|EAI_AGAIN)/);
  });

  it('within the domain is followed, over TLS, to the host it names', async () => {
    // The account's domain is "localhost" here: a name that resolves, for a redirect that can be followed.
    const streamError = (condition: string, text: string) =>
      `<stream:error><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'>${text}</${condition}></stream:error></stream:stream>`;
    const target = await startFakeXmppServer('localhost', (socket) =>
      void socket.end(`<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>said the other host</text></stream:error></stream:stream>`),
    );
    const origin = await startFakeXmppServer('localhost', (socket) => void socket.end(streamError('see-other-host', `localhost:${target.port}`)), { sameCertificateAs: target });
    const redirected = await startCore({ server: { caPem: target.caPem } as TestServer, backoff: { baseMs: 200, capMs: 2_000 } });
    try {
      const account = await redirected.call('accounts.add', { jid: 'alice@localhost', password: 'pw', host: '127.0.0.1', port: origin.port });
      const waiting = await redirected.waitForState(account.id, (a) => a.connection.state === 'waiting');
      expect(waiting.connection.reason).toBe('The server is shutting down. (said the other host)');
      await redirected.call('accounts.setEnabled', { accountId: account.id, enabled: false });
    } finally {
      await redirected.core.close();
      await origin.close();
      await target.close();
    }
  });
});

describe('text from the server', () => {
  let fake: FakeXmppServer;
  let core: TestCore;

  beforeAll(async () => {
    // The euro sign's three bytes go out in two TLS records: one, then the other two.
    const euro = Buffer.from('€');
    fake = await startFakeXmppServer('heron.test', async (socket) => {
      socket.write(Buffer.concat([Buffer.from(`<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Back soon, 5 `), euro.subarray(0, 1)]));
      // A pause, not a wait for anything: the client has no way to say it read the first part,
      // and without one both records may be read (and decoded) together.
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.end(Buffer.concat([euro.subarray(1), Buffer.from(` off</text></stream:error></stream:stream>`)]));
    });
    core = await startCore({ server: { caPem: fake.caPem } as TestServer, backoff: { baseMs: 200, capMs: 2_000 } });
  });

  afterAll(async () => {
    await core?.core.close();
    await fake?.close();
  });

  it('keeps a character whose bytes straddle two TLS records', async () => {
    const account = await core.call('accounts.add', { jid: 'alice@heron.test', password: 'pw', host: '127.0.0.1', port: fake.port });
    const waiting = await core.waitForState(account.id, (a) => a.connection.state === 'waiting' && /shutting down/.test(a.connection.reason ?? ''));
    await core.call('accounts.setEnabled', { accountId: account.id, enabled: false });
    expect(waiting.connection.reason).toBe('The server is shutting down. (Back soon, 5 € off)');
  });
});

describe('an element past the size limit', () => {
  let fake: FakeXmppServer;
  let core: TestCore;

  beforeAll(async () => {
    fake = await startFakeXmppServer('heron.test', (socket) => writeAll(socket, hugeMessage(10 * 1024 * 1024)));
    core = await startCore({ server: { caPem: fake.caPem } as TestServer, backoff: { baseMs: 200, capMs: 2_000 } });
  });

  afterAll(async () => {
    await core?.core.close();
    await fake?.close();
  });

  it('closes the stream with <policy-violation/>, says why, and connects again', async () => {
    const account = await core.call('accounts.add', { jid: 'alice@heron.test', password: 'pw', host: '127.0.0.1', port: fake.port });
    const waiting = await core.waitForState(account.id, (a) => a.connection.state === 'waiting' && /one piece/.test(a.connection.reason ?? ''));
    expect(waiting.connection.reason).toBe('The server sent more than 1 MiB in one piece; Heron closed the connection.');
    const first = await until('the stream error to arrive', () => fake.received().find((text) => text.includes('</stream:stream>')));
    expect(first).toContain('<stream:error><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    expect(first).toMatch(/<\/stream:error><\/stream:stream>$/);
    // The account retries on its own (a failure the server may not repeat).
    await until('a second connection', () => (fake.connections() >= 2 ? true : undefined));
    await core.call('accounts.setEnabled', { accountId: account.id, enabled: false });
    expect((await core.call('conversations.list', {})).filter((c) => c.accountId === account.id)).toEqual([]);
  });
});

describe('stream management counts what the server sent', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let core: TestCore;

  beforeAll(async () => {
    server = await startProsody();
    proxy = await startTcpProxy(server.port, server.host);
    core = await startCore({ server });
  });

  afterAll(async () => {
    await core?.core.close();
    await proxy?.close();
    await server?.stop();
  });

  /** Prosody's view of a session's outgoing stream: stanzas sent, and how many the client acknowledged. */
  const serverView = async (jid: string) => {
    const out = await server.shell(
      `>local t={}; for full, s in pairs(prosody.full_sessions) do if full:match("^${jid.replace(/[.-]/g, '%$&')}/") and s.outgoing_stanza_queue then t[#t+1]=s.outgoing_stanza_queue._head..":"..s.outgoing_stanza_queue._tail end end; return table.concat(t, ",")`,
    );
    const match = /(\d+):(\d+)/.exec(out);
    if (!match) throw new Error(`no stream management session of ${jid}: ${out}`);
    return { sent: Number(match[1]), acked: Number(match[2]) };
  };

  it('acknowledges every stanza after iq round trips and messages, and a resumption re-sends none of them', async () => {
    const [alice, bob] = [await server.register('alice', 'alice-pw'), await server.register('bob', 'bob-pw')];
    await befriend(server, { jid: alice, password: 'alice-pw' }, { jid: bob, password: 'bob-pw' });
    const account = await core.call('accounts.add', { jid: alice, password: 'alice-pw', host: server.host, port: proxy.port });
    await core.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
    const phone = await connectRaw(server, bob, 'bob-pw', 'phone');
    /** Receipts the phone got from Heron, by message id: each message is answered once. */
    const receipts: string[] = [];
    phone.entity.on('stanza', (s: Element) => {
      const id = s.getChild('received', 'urn:xmpp:receipts')?.attrs.id;
      if (id) receipts.push(id);
    });
    const message = (id: string) => xml('message', { to: alice, type: 'chat', id }, xml('body', {}, `count me ${id}`), xml('request', { xmlns: 'urn:xmpp:receipts' }));
    const aliceDevice = new Promise<string>((resolve) =>
      phone.entity.on('stanza', (s: Element) => {
        if (s.is('presence') && s.attrs.from?.startsWith(`${alice}/`)) resolve(s.attrs.from);
      }),
    );
    try {
      await phone.send(xml('presence'));
      // A roster push from bob, not alice's server: dropped unanswered, but counted all the same.
      const forged = xml('iq', { to: await aliceDevice, type: 'set', id: 'forged-push' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'mallory@heron.test', subscription: 'both' })));
      await phone.send(forged);
      // Heron's own iq round trips (roster, disco, carbons, archive) happened at login; more now:
      // each contact change is an iq set answered by a result and a roster push.
      for (let i = 0; i < 5; i++) await core.call('contacts.add', { accountId: account.id, jid: `friend${i}@heron.test` });
      for (let i = 0; i < 20; i++) await phone.send(message(`sm-${i}`));
      await until('a receipt for each message', () => (receipts.length >= 20 ? true : undefined));
      // Prosody asks for an ack after what it sends; once answered, nothing is left over. With
      // the old composition the iq results were never counted and the acked count stayed behind.
      const view = await until('the server to have every stanza acknowledged', async () => {
        const v = await serverView(alice);
        return v.sent > 30 && v.acked === v.sent ? v : undefined;
      });
      console.log(`stream management: server sent ${view.sent}, Heron acknowledged ${view.acked}`);
      expect((await core.call('contacts.list', { accountId: account.id })).map((c) => c.jid)).not.toContain('mallory@heron.test');

      // Drop the connection: the session resumes, and the server has nothing to hand over again.
      const resumed = core.nextState(account.id, (a) => a.connection.state === 'online');
      expect(proxy.sever()).toBeGreaterThan(0);
      await resumed;
      expect(core.logs.some((line) => line.includes('resumed the session'))).toBe(true);
      // One more message after the resumption: once its receipt is in, any re-sent one would be too.
      await phone.send(message('after'));
      await until('the receipt of the message after the resumption', () => (receipts.includes('after') ? true : undefined));
      expect(receipts.filter((id) => id !== 'after').sort()).toEqual(Array.from({ length: 20 }, (_, i) => `sm-${i}`).sort());
      expect(server.log()).not.toMatch(/handled \d+ new stanzas, but we sent/);
    } finally {
      await phone.stop();
    }
  });

  it('sends no stanza once the session is closing: it would go out after the last count, unacknowledged', async () => {
    const [carol, dave] = [await server.register('carol', 'carol-pw'), await server.register('dave', 'dave-pw')];
    const daveDevice = await connectRaw(server, dave, 'dave-pw', 'phone');
    const atDave: string[] = [];
    daveDevice.entity.on('stanza', (s: Element) => void (s.is('message') && atDave.push(s.attrs.id ?? '')));
    const message = (id: string) => xml('message', { to: `${dave}/phone`, type: 'chat', id }, xml('body', {}, id));
    try {
      const carolDevice = await connectRaw(server, carol, 'carol-pw', 'laptop');
      const closed = carolDevice.close();
      await expect(carolDevice.send(message('too-late'))).rejects.toThrow(/the session is closing/);
      await closed;
      // A message from carol's next session: by the time it arrives, the refused one would have.
      const carolAgain = await connectRaw(server, carol, 'carol-pw', 'laptop');
      await carolAgain.send(message('next-session'));
      await until('the message of the next session', () => (atDave.includes('next-session') ? true : undefined));
      expect(atDave).toEqual(['next-session']);
      await carolAgain.stop();
    } finally {
      await daveDevice.stop();
    }
  });
});
