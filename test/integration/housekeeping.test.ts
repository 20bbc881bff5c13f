// Housekeeping against a real server: what we tell others about ourselves (disco, caps,
// version), what we learn about them once, noticing a dead connection by ping, and telling the
// server when no one is looking.
import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { startTcpProxy } from '../support/tcp-proxy';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw, exchangeMessages, nextStanza } from '../support/raw-client';
import type { AccountView } from '../../preload/contract';
import pkg from '../../package.json' with { type: 'json' };
import { until } from '../support/until';

const NS_DISCO = 'http://jabber.org/protocol/disco#info';

/** XEP-0115 §5.1, written out here independently of the app's own implementation (no forms). */
function verificationString(query: Element): string {
  const identities = query
    .getChildren('identity')
    .map((i) => `${i.attrs.category}/${i.attrs.type}/${i.attrs['xml:lang'] ?? ''}/${i.attrs.name ?? ''}<`)
    .sort();
  const features = query
    .getChildren('feature')
    .map((f) => `${f.attrs.var}<`)
    .sort();
  return createHash('sha1').update(identities.join('') + features.join('')).digest('base64');
}

function capsRows(core: TestCore): Array<{ node_ver: string; features_json: string }> {
  const db = new Database(path.join(core.dataDir, 'heron.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT node_ver, features_json FROM caps_cache ORDER BY node_ver').all() as Array<{ node_ver: string; features_json: string }>;
  } finally {
    db.close();
  }
}

describe('housekeeping against a real server', () => {
  let server: TestServer;
  let alice: TestCore;
  let aliceJid: string;
  let bobJid: string;
  let carolJid: string;
  let account: AccountView;

  beforeAll(async () => {
    server = await startProsody();
    aliceJid = await server.register('alice', 'a-pw');
    bobJid = await server.register('bob', 'b-pw');
    carolJid = await server.register('carol', 'c-pw');
    await befriend(server, { jid: aliceJid, password: 'a-pw' }, { jid: bobJid, password: 'b-pw' });
    alice = await startCore({ server });
    account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
    await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
  });

  afterAll(async () => {
    await alice?.core.close();
    await server?.stop();
  });

  it('advertises a caps hash that matches what we answer to disco#info, and tells our version only to contacts', async () => {
    const bob = await connectRaw(server, bobJid, 'b-pw', 'laptop');
    const carol = await connectRaw(server, carolJid, 'c-pw', 'laptop');
    try {
      const presence = nextStanza(bob, (s) => s.is('presence') && Boolean(s.attrs.from?.startsWith(`${aliceJid}/`)));
      await bob.send(xml('presence'));
      const seen = await presence;
      const aliceFull = seen.attrs.from!;
      const c = seen.getChild('c', 'http://jabber.org/protocol/caps');
      expect(c?.attrs).toMatchObject({ hash: 'sha-1', node: pkg.homepage });

      const answer = await bob.iqCaller.get(xml('query', { xmlns: NS_DISCO, node: `${c!.attrs.node}#${c!.attrs.ver}` }), aliceFull);
      expect(verificationString(answer!)).toBe(c!.attrs.ver);
      expect(answer!.getChildren('identity').map((i) => i.attrs)).toEqual([{ category: 'client', type: 'pc', name: 'Heron' }]);
      expect(answer!.getChildren('feature').map((f) => f.attrs.var).sort()).toEqual(
        [
          'eu.siacs.conversations.axolotl.devicelist+notify',
          'http://jabber.org/protocol/caps',
          'http://jabber.org/protocol/chatstates',
          'http://jabber.org/protocol/disco#info',
          'http://jabber.org/protocol/muc',
          'jabber:iq:version',
          'jabber:x:conference',
          'urn:xmpp:bookmarks:1+notify',
          'urn:xmpp:chat-markers:0',
          'urn:xmpp:mds:displayed:0+notify',
          'urn:xmpp:message-correct:0',
          'urn:xmpp:message-retract:1',
          'urn:xmpp:omemo:2:devices+notify',
          'urn:xmpp:ping',
          'urn:xmpp:reactions:0',
          'urn:xmpp:receipts',
          'urn:xmpp:reply:0',
        ].sort(),
      );
      // Anyone may ask what we support (it is in our presence anyway); a node we lack is not found.
      const plain = await carol.iqCaller.get(xml('query', { xmlns: NS_DISCO }), aliceFull);
      expect(verificationString(plain!)).toBe(c!.attrs.ver);
      await expect(carol.iqCaller.get(xml('query', { xmlns: NS_DISCO, node: 'urn:other' }), aliceFull)).rejects.toMatchObject({
        condition: 'item-not-found',
      });

      const version = await bob.iqCaller.get(xml('query', { xmlns: 'jabber:iq:version' }), aliceFull);
      expect(version?.getChildText('name')).toBe('Heron');
      expect(version?.getChildText('version')).toBe(pkg.version);
      expect(version?.getChild('os')).toBeUndefined();
      // Carol is not a contact: she learns nothing about which client alice runs.
      await expect(carol.iqCaller.get(xml('query', { xmlns: 'jabber:iq:version' }), aliceFull)).rejects.toMatchObject({
        condition: 'service-unavailable',
      });
    } finally {
      await bob.stop();
      await carol.stop();
    }
  });

  it("learns a contact's features once, keeps them across restarts, and refuses a hash that does not match", async () => {
    const phoneInfo = (features: string[]) => [xml('identity', { category: 'client', type: 'phone', name: 'Test phone' }), ...features.map((f) => xml('feature', { var: f }))];
    const features = ['http://jabber.org/protocol/disco#info', 'urn:xmpp:receipts', 'urn:xmpp:jingle:1'];
    const ver = verificationString(xml('query', {}, ...phoneInfo(features)));
    const node = 'https://phone.example';

    // A contact's device that answers disco#info and counts alice's client's questions (the
    // server asks too, for its PEP service, from bare JIDs).
    const asked: string[] = [];
    let questioned = () => {};
    const phone = await connectRaw(server, bobJid, 'b-pw', 'phone');
    phone.iqCallee.get(NS_DISCO, 'query', ({ stanza }) => {
      const askedNode = stanza.getChild('query', NS_DISCO)!.attrs.node ?? '';
      if (stanza.attrs.from?.startsWith(`${aliceJid}/`)) {
        asked.push(askedNode);
        questioned();
      }
      return xml('query', { xmlns: NS_DISCO, node: askedNode }, ...phoneInfo(features));
    });
    const withCaps = (v: string) => xml('presence', {}, xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node, ver: v }));
    try {
      // Two rounds of messages: after the first, alice has taken the presence and the phone has
      // any question she asked on seeing it; after the second, alice has the phone's answer.
      const barrier = async () => {
        await exchangeMessages(phone, alice, aliceJid);
        await exchangeMessages(phone, alice, aliceJid);
      };
      await phone.send(withCaps(ver));
      await barrier();
      expect(asked).toEqual([`${node}#${ver}`]);
      expect(capsRows(alice).find((r) => r.node_ver === `${node}#${ver}`)?.features_json).toBe(JSON.stringify(features));

      // After a restart, the same version is not asked about again.
      const dataDir = alice.dataDir;
      await alice.core.close();
      alice = await startCore({ server, dataDir });
      await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
      await phone.send(withCaps(ver));
      await barrier();
      expect(asked).toEqual([`${node}#${ver}`]);

      // A version the device's answer does not hash to is not cached.
      const bad = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=';
      const askedAboutIt = new Promise<void>((resolve) => (questioned = resolve));
      await phone.send(xml('presence', {}, xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: `${node}/x`, ver: bad })));
      await askedAboutIt;
      await barrier();
      expect(asked).toHaveLength(2);
      expect(capsRows(alice).map((r) => r.node_ver)).toEqual([`${node}#${ver}`]);
    } finally {
      await phone.stop();
    }
  });

  it('tells the server when no window is visible, and when one is again (XEP-0352)', async () => {
    const state = async () => (await server.shell("c2s:show(nil, 'jid csi')")).split('\n').find((l) => l.startsWith(`${aliceJid}/`)) ?? '';
    // A session starts active: the server shows no state until told otherwise.
    expect(await state()).not.toMatch(/inactive|flushing/);
    await alice.call('app.setActive', { active: false });
    await until('the server sees us inactive', async () => /\|\s*(inactive|flushing)/.test(await state()) || undefined, 10_000);
    alice.core.setActive(true);
    await until('the server sees us active', async () => /\|\s*active/.test(await state()) || undefined, 10_000);
  });

  it('notices a connection that went silent, drops it and comes back online', async () => {
    const proxy = await startTcpProxy(server.port, server.host);
    const watcher = await startCore({ server, keepalive: { idleMs: 300, timeoutMs: 700 }, backoff: { baseMs: 100, capMs: 1000 } });
    try {
      const dave = await server.register('dave', 'd-pw');
      const added = await watcher.call('accounts.add', { jid: dave, password: 'd-pw', host: '127.0.0.1', port: proxy.port });
      await watcher.waitForState(added.id, (a) => a.connection.state === 'online' && !a.connection.syncing);

      expect(proxy.freeze()).toBe(1);
      const waiting = await watcher.waitForState(added.id, (a) => a.connection.state === 'waiting');
      expect(waiting.connection.reason).toBe('The server did not answer in time.');
      const back = await watcher.waitForState(added.id, (a) => a.connection.state === 'online' && a.connection.attempt === 0 && watcher.events.some((e) => e.payload === waiting));
      expect(back.connection.state).toBe('online');
      // The new connection works: a message reaches dave.
      const sender = await connectRaw(server, carolJid, 'c-pw', 'desk');
      try {
        await sender.send(xml('message', { to: dave, type: 'chat', id: 'after-freeze' }, xml('body', {}, 'are you back?')));
        expect((await watcher.waitFor('message.added', (m) => m.body === 'are you back?')).from).toBe(carolJid);
      } finally {
        await sender.stop();
      }
    } finally {
      await watcher.core.close();
      await proxy.close();
    }
  });
});
