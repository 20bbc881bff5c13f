// OMEMO in a group chat (XEP-0384 §6.3) on the real Prosody: three Heron cores in a
// members-only, non-anonymous room, each message encrypted to the other two occupants' devices
// (found by their real JIDs) and read by both, the room's archive holding only the fallback
// body; an open, semi-anonymous room refuses the switch, saying why.
import xml, { type Element } from '@xmpp/xml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountView, MessageView } from '../../preload/contract';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { connectRaw } from '../support/raw-client';
import { until } from '../support/until';
import { FALLBACK_BODY } from '../../main/core/xmpp/omemo';

const NS_MAM = 'urn:xmpp:mam:2';
const isOnline = (a: AccountView) => a.connection.state === 'online';
const PEOPLE = ['alice', 'bob', 'carol'] as const;
type Who = (typeof PEOPLE)[number];

describe('OMEMO in a group chat through a real server', () => {
  let server: TestServer;
  let room: string;
  let open: string;
  const jids = {} as Record<Who, string>;
  const cores = {} as Record<Who, TestCore>;
  const accounts = {} as Record<Who, AccountView>;
  const conversations = {} as Record<Who, number>;

  const roomMessages = async (who: Who): Promise<MessageView[]> =>
    (await cores[who].call('messages.page', { conversationId: conversations[who], limit: 200 })).messages.filter((m) => !m.gap);

  beforeAll(async () => {
    server = await startProsody({ muc: true });
    room = `secret@conference.${server.domain}`;
    open = `lobby@conference.${server.domain}`;
    for (const who of PEOPLE) {
      jids[who] = await server.register(who, `${who}-pw`);
      cores[who] = await startCore({ server });
      accounts[who] = await cores[who].call('accounts.add', accountFor(server, jids[who], `${who}-pw`));
      await cores[who].waitForState(accounts[who].id, isOnline);
    }
  });

  afterAll(async () => {
    for (const core of Object.values(cores)) await core.core.close();
    await server?.stop();
  });

  it('refuses encryption in an open room where addresses are hidden, saying why', async () => {
    // Prosody's instant room: anyone may join, real JIDs only for moderators.
    const lobby = await cores.alice.call('rooms.join', { accountId: accounts.alice.id, room: open, nick: 'Alice' });
    await expect(cores.alice.call('omemo.setEnabled', { conversationId: lobby.conversationId, enabled: true })).rejects.toMatchObject({
      error: { code: 'refused', message: expect.stringMatching(/non-anonymous room, where everyone's address is visible, and lobby@\S+ hides them/) },
    });
    const { encryption } = await cores.alice.call('omemo.devices', { conversationId: lobby.conversationId });
    expect(encryption).toBeNull();
  });

  it('three people in a members-only, non-anonymous room read each other’s encrypted messages; the room archives only the fallback', async () => {
    const created = await cores.alice.call('rooms.create', { accountId: accounts.alice.id, room, nick: 'Alice' });
    conversations.alice = created.room.conversationId;
    await cores.alice.call('rooms.configure', {
      accountId: accounts.alice.id,
      room,
      values: { 'muc#roomconfig_membersonly': ['1'], 'muc#roomconfig_whois': ['anyone'], 'muc#roomconfig_persistentroom': ['1'] },
    });
    for (const who of ['bob', 'carol'] as const) {
      await cores.alice.call('rooms.setAffiliation', { accountId: accounts.alice.id, room, jid: jids[who], affiliation: 'member' });
    }
    for (const [who, nick] of [['bob', 'Bob'], ['carol', 'Carol']] as const) {
      conversations[who] = (await cores[who].call('rooms.join', { accountId: accounts[who].id, room, nick })).conversationId;
    }
    for (const who of PEOPLE) {
      // Everyone sees the two others with their real JIDs before writing to them.
      await until(`${who} sees three occupants with their addresses`, async () => {
        const list = await cores[who].call('rooms.occupants', { accountId: accounts[who].id, room });
        return list.length === 3 && list.every((o) => o.jid) ? list : undefined;
      });
      // None of them is another's contact: their device lists are fetched as they come into the room.
      for (const other of PEOPLE.filter((o) => o !== who)) await cores[who].waitFor('omemo.devicesChanged', (e) => e.jid === jids[other]);
      await cores[who].call('omemo.setEnabled', { conversationId: conversations[who], enabled: true });
    }

    const said: Record<Who, string> = { alice: 'Alice: the <key> is under the mat', bob: 'Bob: got it', carol: 'Carol: me too' };
    for (const author of PEOPLE) {
      const readers = PEOPLE.filter((who) => who !== author);
      const arrivals = readers.map((who) => cores[who].waitFor('message.added', (m) => m.conversationId === conversations[who] && m.direction === 'in' && m.body === said[author]));
      const sent = await cores[author].call('messages.send', { conversationId: conversations[author], body: said[author] });
      expect(sent.encryption).toBe('omemo2');
      for (const got of await Promise.all(arrivals)) {
        expect(got).toMatchObject({ encryption: 'omemo2' });
        expect(got.undecryptable).toBeUndefined();
        expect(got.senderDevice).toBeGreaterThan(0);
      }
      // The room's echo confirms it, and it is neither decrypted again nor stored twice.
      await until(`${author}'s message delivered`, async () => {
        const mine = (await roomMessages(author)).filter((m) => m.body === said[author]);
        return mine.length === 1 && mine[0]!.state === 'delivered' ? mine : undefined;
      });
    }
    for (const who of PEOPLE) {
      const messages = await roomMessages(who);
      expect(messages.map((m) => m.body)).toEqual(PEOPLE.map((author) => said[author]));
      expect(messages.every((m) => m.encryption === 'omemo2' && !m.undecryptable)).toBe(true);
    }

    // What the room archived: the fallback beside the <encrypted/>, never the text.
    const raw = await connectRaw(server, jids.alice, 'alice-pw', 'archive-reader');
    try {
      const archived: Array<{ body: string | null; encrypted: boolean }> = [];
      const onStanza = (stanza: Element) => {
        const inner = stanza.getChild('result', NS_MAM)?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
        if (inner) archived.push({ body: inner.getChildText('body'), encrypted: inner.getChildren('encrypted').length > 0 });
      };
      raw.entity.on('stanza', onStanza);
      await raw.iqCaller.set(xml('query', { xmlns: NS_MAM, queryid: 'room-archive' }), room);
      raw.entity.off('stanza', onStanza);
      const withBody = archived.filter((m) => m.body !== null);
      expect(withBody).toHaveLength(3);
      for (const message of withBody) expect(message).toEqual({ body: FALLBACK_BODY, encrypted: true });
    } finally {
      await raw.stop();
    }
  });

  it('encrypts to a member who is not in the room at the moment: she reads it from the room’s archive when she is back', async () => {
    await cores.carol.call('rooms.leave', { accountId: accounts.carol.id, room });
    await until('carol gone from the room', async () => {
      const list = await cores.alice.call('rooms.occupants', { accountId: accounts.alice.id, room });
      return list.length === 2 ? list : undefined;
    });
    const body = 'Alice: carol, the meeting moved to Friday';
    const sent = await cores.alice.call('messages.send', { conversationId: conversations.alice, body });
    expect(sent.encryption).toBe('omemo2');
    await until("alice's message delivered", async () => ((await roomMessages('alice')).find((m) => m.body === body)?.state === 'delivered' ? true : undefined));
    const arrival = cores.carol.waitFor('message.added', (m) => m.conversationId === conversations.carol && m.direction === 'in' && m.from.endsWith('/Alice') && (m.body === body || m.undecryptable === true));
    await cores.carol.call('rooms.join', { accountId: accounts.carol.id, room, nick: 'Carol' });
    const got = await arrival;
    expect(got).toMatchObject({ body, encryption: 'omemo2' });
    expect(got.undecryptable).toBeUndefined();
  });

  it('keeps a room message that cannot be decrypted, saying why, instead of its fallback as text', async () => {
    // Dave, a member whose client sends an OMEMO message alice's device cannot read.
    const daveJid = await server.register('dave', 'dave-pw');
    await cores.alice.call('rooms.setAffiliation', { accountId: accounts.alice.id, room, jid: daveJid, affiliation: 'member' });
    const { deviceId } = await cores.alice.call('omemo.devices', { conversationId: conversations.alice });
    const dave = await connectRaw(server, daveJid, 'dave-pw');
    try {
      await dave.send(xml('presence', { to: `${room}/Dave` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
      const header = xml('header', { sid: '4242' }, xml('keys', { jid: jids.alice }, xml('key', { rid: String(deviceId) }, 'bm90IGEga2V5')));
      await dave.send(
        xml('message', { to: room, type: 'groupchat', id: 'd1' }, xml('encrypted', { xmlns: 'urn:xmpp:omemo:2' }, header, xml('payload', {}, 'bm90IGEgcGF5bG9hZA==')), xml('body', {}, FALLBACK_BODY)),
      );
      const got = await cores.alice.waitFor('message.added', (m) => m.conversationId === conversations.alice && m.from === `${room}/Dave`);
      expect(got).toMatchObject({ undecryptable: true, encryption: 'omemo2', direction: 'in' });
      expect(got.body).toMatch(/^This message could not be decrypted: /);
      expect(got.body).not.toContain(FALLBACK_BODY);
    } finally {
      await dave.stop();
    }
  });
});
