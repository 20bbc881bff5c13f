// A bare XMPP client for tests: another device of a user (their "phone"), or a quick way to
// set up server-side state. Built on the same session composition as the core.
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import { createSession, type Session } from '../../main/core/xmpp/session';
import type { XmppTestServer as TestServer } from './server-kit';
import type { TestCore } from './cores';

export type RawClient = Session & { jid: string; send(stanza: Element): Promise<void>; stop(): Promise<void> };

export async function connectRaw(server: TestServer, jid: string, password: string, resource = 'raw'): Promise<RawClient> {
  const [local, domain] = jid.split('@') as [string, string];
  const session = createSession({
    jid: { local, domain },
    password: async () => password,
    sasl: { policy: () => ({ allowPlain: false }), authenticated: () => {} },
    resource,
    endpoint: { host: server.host, port: server.port, directTls: false },
    trustedCAs: [server.caPem],
  });
  session.entity.on('error', () => {});
  await session.open();
  return {
    ...session,
    jid,
    send: (stanza) => session.entity.send(stanza),
    stop: async () => void (await session.close().catch(() => {})),
  };
}

/** Makes two users mutual contacts (subscription "both") on the server, then disconnects. */
export async function befriend(server: TestServer, a: { jid: string; password: string }, b: { jid: string; password: string }): Promise<void> {
  const [ca, cb] = [await connectRaw(server, a.jid, a.password, 'setup'), await connectRaw(server, b.jid, b.password, 'setup')];
  try {
    // Available with a negative priority: requests are delivered, chat messages are not.
    for (const c of [ca, cb]) await c.send(xml('presence', {}, xml('priority', {}, '-1')));
    for (const [from, to] of [
      [ca, cb],
      [cb, ca],
    ] as const) {
      // Approve only once the request has arrived: an early "subscribed" may be dropped.
      const requested = new Promise<void>((resolve) =>
        to.entity.on('stanza', (s: Element) => {
          if (s.is('presence') && s.attrs.type === 'subscribe' && s.attrs.from?.startsWith(from.jid)) resolve();
        }),
      );
      await from.iqCaller.set(xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: to.jid })));
      await from.send(xml('presence', { to: to.jid, type: 'subscribe' }));
      await requested;
      await to.send(xml('presence', { to: from.jid, type: 'subscribed' }));
    }
    // Subscription states settle asynchronously on the server: wait until both see "both".
    for (const [client, peer] of [
      [ca, cb.jid],
      [cb, ca.jid],
    ] as const) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const roster = await client.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
        const item = roster?.getChildren('item').find((i) => i.attrs.jid === peer);
        if (item?.attrs.subscription === 'both') break;
        if (Date.now() > deadline) throw new Error(`${client.jid} never got subscription both with ${peer}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  } finally {
    await ca.stop();
    await cb.stop();
  }
}

/** The first stanza from now on that matches; call it before causing the stanza. */
export function nextStanza(client: RawClient, match: (stanza: Element) => boolean, timeoutMs = 20_000): Promise<Element> {
  return new Promise((resolve, reject) => {
    const onStanza = (stanza: Element) => {
      if (!match(stanza)) return;
      client.entity.off('stanza', onStanza);
      clearTimeout(timer);
      resolve(stanza);
    };
    const timer = setTimeout(() => {
      client.entity.off('stanza', onStanza);
      reject(new Error(`${client.jid} received no matching stanza`));
    }, timeoutMs);
    client.entity.on('stanza', onStanza);
  });
}
/**
 * One message each way between a raw client and an account of a core. Afterwards the core has
 * taken everything the client sent before, and the client has everything the core sent before
 * (each path keeps its order), without waiting for a guessed time.
 */
export async function exchangeMessages(client: RawClient, core: TestCore, accountJid: string): Promise<void> {
  const body = `round ${randomUUID()}`;
  const arrived = core.waitFor('message.added', (m) => m.body === body);
  await client.send(xml('message', { to: accountJid, type: 'chat', id: body }, xml('body', {}, body)));
  const reply = nextStanza(client, (s) => s.is('message') && s.getChildText('body') === `re: ${body}`);
  await core.call('messages.send', { conversationId: (await arrived).conversationId, body: `re: ${body}` });
  await reply;
}
