// Stream management resumption (XEP-0198) against a real Prosody behind a TCP proxy: a drop
// is resumed with nothing lost and nothing sent twice; after a server restart the server
// cannot resume, and a new session with the archive catch-up still delivers everything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import type { ServerOptions, XmppTestServer } from '../../support/server-kit';
import { startCore, type TestCore } from '../../support/cores';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy';
import { befriend, connectRaw, nextStanza, type RawClient } from '../../support/raw-client';
import type { AccountView } from '../../../preload/contract';

/** Runs against the server `start` gives (test/integration/resumption*.test.ts). */
export function resumptionScenario(start: (options?: ServerOptions) => Promise<XmppTestServer>): void {
  describe('resuming the session after a dropped connection', () => {
    let server: XmppTestServer;
    let proxy: TcpProxy;
    let alice: TestCore;
    let bobPhone: RawClient;
    let account: AccountView;
    let conversationId: number;
    const jids: Record<string, string> = {};

    const isOnline = (a: AccountView) => a.connection.state === 'online' && !a.connection.syncing;
    const bodyIs = (body: string) => (s: Element) => s.is('message') && s.getChildText('body') === body;
    /** Bodies bob's phone receives, in order. */
    const atBob: string[] = [];
    const bobOnline = async () => {
      bobPhone = await connectRaw(server, jids.bob!, 'bob-pw', 'phone');
      bobPhone.entity.on('stanza', (s: Element) => {
        const body = s.is('message') ? s.getChildText('body') : null;
        if (body) atBob.push(body);
      });
      await bobPhone.send(xml('presence'));
    };
    const bobAvailable = (c: { contacts: { jid: string; presence: { show: string } }[] }) =>
      c.contacts.some((x) => x.jid === jids.bob && x.presence.show === 'available');

    beforeAll(async () => {
      server = await start();
      proxy = await startTcpProxy(server.port, server.host);
      for (const local of ['alice', 'bob']) jids[local] = await server.register(local, `${local}-pw`);
      await befriend(server, { jid: jids.alice!, password: 'alice-pw' }, { jid: jids.bob!, password: 'bob-pw' });
      await bobOnline();
      alice = await startCore({ server, backoff: { baseMs: 100, capMs: 1000 } });
      account = await alice.call('accounts.add', { jid: jids.alice!, password: 'alice-pw', host: '127.0.0.1', port: proxy.port });
      await alice.waitForState(account.id, isOnline);
      await alice.waitFor('contacts.changed', bobAvailable);
      conversationId = (await alice.call('conversations.open', { accountId: account.id, peer: jids.bob! })).id;
    });

    afterAll(async () => {
      await bobPhone?.stop();
      await alice?.core.close();
      await proxy?.close();
      await server?.stop();
      // Every stanza the server sent was counted by the time it asked (XEP-0198), on either server.
      if (server) expect(server.ackShortfalls()).toEqual([]);
    });

    it('a drop is resumed: contacts stay online, what either side sent meanwhile arrives once', async () => {
      const from = alice.events.length;
      const dropped = alice.nextState(account.id, (a) => a.connection.state === 'waiting');
      proxy.sever();
      await dropped;
      const back = alice.nextState(account.id, (a) => a.connection.state === 'online');
      const written = await alice.call('messages.send', { conversationId, body: 'written during the drop' });
      await bobPhone.send(xml('message', { to: jids.alice!, type: 'chat', id: 'bob-1' }, xml('body', {}, 'sent to alice during the drop')));
      expect((await back).connection.syncing).toBeUndefined();
      expect(alice.logs.join('')).toContain('resumed the session');

      await alice.waitFor('message.added', (m) => m.body === 'sent to alice during the drop', 20_000, from);
      // The next message comes after on the same path: by then a double would have arrived.
      const after = nextStanza(bobPhone, bodyIs('after the drop'));
      await alice.call('messages.send', { conversationId, body: 'after the drop' });
      await after;
      expect(atBob.filter((b) => b === 'written during the drop')).toHaveLength(1);
      await alice.waitFor('message.updated', (m) => m.id === written.id && m.state === 'sent', 20_000, from);

      // No catch-up ran, and bob never showed as offline.
      const since = alice.events.slice(from);
      expect(since.some((e) => e.event === 'account.changed' && (e.payload as AccountView).connection.syncing)).toBe(false);
      expect(since.filter((e) => e.event === 'contacts.changed').every((e) => bobAvailable(e.payload as never))).toBe(true);
      expect(since.filter((e) => e.event === 'message.added' && (e.payload as { body: string }).body === 'sent to alice during the drop')).toHaveLength(1);
    });

    it('after a server restart the session is gone: a new one catches up and resends the outbox', async () => {
      const from = alice.events.length;
      // The proxy refuses connections until the server is back, with bob's message waiting in it.
      const dropped = alice.nextState(account.id, (a) => a.connection.state === 'waiting');
      await proxy.cut();
      await dropped;
      await bobPhone.stop();
      await server.stop();
      await server.start();
      await bobOnline();
      await bobPhone.send(xml('message', { to: jids.alice!, type: 'chat', id: 'bob-2' }, xml('body', {}, 'sent while alice was away')));
      const written = await alice.call('messages.send', { conversationId, body: 'written while the server restarted' });
      const arrives = nextStanza(bobPhone, bodyIs('written while the server restarted'));
      const back = alice.nextState(account.id, isOnline, 30_000);
      await proxy.restore();

      await back;
      expect(alice.logs.join('')).toContain('could not resume the session');
      await alice.waitFor('message.added', (m) => m.body === 'sent while alice was away', 20_000, from);
      await arrives;
      const after = nextStanza(bobPhone, bodyIs('after the restart'));
      await alice.call('messages.send', { conversationId, body: 'after the restart' });
      await after;
      expect(atBob.filter((b) => b === 'written while the server restarted')).toHaveLength(1);
      await alice.waitFor('message.updated', (m) => m.id === written.id && m.state === 'sent', 20_000, from);
      await alice.waitFor('contacts.changed', bobAvailable, 20_000, from);
    });
  });
}
