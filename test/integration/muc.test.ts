// Group chats on the real Prosody (with its muc component and room archives): three users
// talk in a room, one is cut off and catches up from the room's archive, kicks and bans,
// nick conflicts, bookmarks across two instances of an account, and self-ping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountView, MessageView, RoomView } from '../../preload/contract';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { until } from '../support/until';

const isOnline = (a: AccountView) => a.connection.state === 'online';

describe('group chats through a real server', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let service: string;
  let room: string;
  const jids: Record<string, string> = {};
  const cores: Record<string, TestCore> = {};
  const accounts: Record<string, AccountView> = {};
  const conversations: Record<string, number> = {};

  const joined = (who: string, jid: string) => (r: RoomView) => r.jid === jid && r.accountId === accounts[who]!.id && r.state === 'joined';
  const bodies = async (who: string, jid = room) => {
    const page = await cores[who]!.call('messages.page', { conversationId: conversations[`${who}:${jid}`]!, limit: 200 });
    return page.messages.filter((m) => !m.gap).map((m) => m.body);
  };
  async function join(who: string, jid: string, nick: string): Promise<RoomView> {
    const view = await cores[who]!.call('rooms.join', { accountId: accounts[who]!.id, room: jid, nick });
    conversations[`${who}:${jid}`] = view.conversationId;
    return view;
  }

  beforeAll(async () => {
    server = await startProsody({ muc: true });
    service = `conference.${server.domain}`;
    room = `lounge@${service}`;
    proxy = await startTcpProxy(server.port, server.host);
    for (const local of ['alice', 'bob', 'carol']) {
      jids[local] = await server.register(local, `${local}-pw`);
      // Bob self-pings his rooms after one quiet second (XEP-0410), so the test need not wait 15 minutes.
      cores[local] = await startCore({
        server,
        backoff: { baseMs: 100, capMs: 1000 },
        ...(local === 'bob' ? { keepalive: { idleMs: 60_000, timeoutMs: 10_000, roomIdleMs: 1000 } } : {}),
      });
      const via = local === 'carol' ? { host: '127.0.0.1', port: proxy.port } : {};
      accounts[local] = await cores[local]!.call('accounts.add', { ...accountFor(server, jids[local]!, `${local}-pw`), ...via });
      await cores[local]!.waitForState(accounts[local]!.id, isOnline);
    }
  });

  afterAll(async () => {
    for (const core of Object.values(cores)) await core.core.close();
    await proxy?.close();
    await server?.stop();
  });

  it('lists the rooms of the service, and three users join a room and talk, each message stored once', async () => {
    const alice = await join('alice', room, 'Alice');
    expect(alice).toMatchObject({ state: 'joined', nick: 'Alice', affiliation: 'owner' });
    await join('bob', room, 'Bob');
    await join('carol', room, 'Carol');
    const listed = await cores.bob!.call('rooms.discover', { accountId: accounts.bob!.id, service });
    expect(listed.map((r) => r.jid)).toContain(room);

    // Alice's list of occupants fills in from batched events, with the room's occupant-ids.
    const occupants = await until('alice sees three occupants', async () => {
      const list = await cores.alice!.call('rooms.occupants', { accountId: accounts.alice!.id, room });
      return list.length === 3 ? list : undefined;
    });
    expect(occupants.map((o) => o.nick).sort()).toEqual(['Alice', 'Bob', 'Carol']);
    expect(occupants.every((o) => typeof o.occupantId === 'string')).toBe(true);
    // …and the window hears of carol in a batch.
    await cores.alice!.waitFor('room.occupants', (e) => e.room === room && e.added.some((o) => o.nick === 'Carol'));

    const sent = await cores.alice!.call('messages.send', { conversationId: conversations[`alice:${room}`]!, body: 'Hello room <b>not bold</b>' });
    expect(sent.state).toBe('pending');
    for (const who of ['bob', 'carol']) {
      const got = await cores[who]!.waitFor('message.added', (m) => m.body === 'Hello room <b>not bold</b>');
      expect(got).toMatchObject({ direction: 'in', from: `${room}/Alice`, conversationId: conversations[`${who}:${room}`] });
    }
    // The room's echo of alice's own message confirms it went to everyone.
    await cores.alice!.waitFor('message.updated', (m) => m.id === sent.id && m.state === 'delivered');
    await cores.bob!.call('messages.send', { conversationId: conversations[`bob:${room}`]!, body: 'Hi all' });
    await cores.carol!.waitFor('message.added', (m) => m.body === 'Hi all');
    await cores.alice!.waitFor('message.added', (m) => m.body === 'Hi all');
    for (const who of ['alice', 'bob', 'carol']) expect(await bodies(who)).toEqual(['Hello room <b>not bold</b>', 'Hi all']);
    const list = await cores.carol!.call('conversations.list', {});
    expect(list.find((c) => c.peer === room)).toMatchObject({ kind: 'groupchat' });
  });

  it('keeps a private message with an occupant apart from the one-to-one chat', async () => {
    await cores.alice!.call('rooms.sendPrivate', { accountId: accounts.alice!.id, room, nick: 'Bob', body: 'just between us' });
    const got = await cores.bob!.waitFor('message.added', (m) => m.body === 'just between us');
    const conversation = (await cores.bob!.call('conversations.list', {})).find((c) => c.id === got.conversationId);
    expect(conversation).toMatchObject({ peer: `${room}/Alice`, kind: 'private' });
    expect(await bodies('bob')).not.toContain('just between us');
  });

  it('carol is cut off, misses messages, and catches up from the room archive: nothing missing or doubled', async () => {
    const carol = cores.carol!;
    const from = carol.events.length;
    const dropped = carol.nextState(accounts.carol!.id, (a) => a.connection.state === 'waiting');
    await proxy.cut();
    await dropped;
    // The server gives up on her session, so the room sees her go: she must come back as a new session.
    await server.closeSessions(jids.carol!, 'connection-timeout', 'gone');
    await until('the room sees carol go', async () => {
      const list = await cores.alice!.call('rooms.occupants', { accountId: accounts.alice!.id, room });
      return list.every((o) => o.nick !== 'Carol') ? true : undefined;
    });
    const missed = ['missed one', 'missed two', 'missed three'];
    for (const [i, body] of missed.entries()) {
      const [who, other] = i % 2 === 0 ? (['alice', 'bob'] as const) : (['bob', 'alice'] as const);
      await cores[who]!.call('messages.send', { conversationId: conversations[`${who}:${room}`]!, body });
      // The room has it once another occupant does: the next one is sent after it in the room's order.
      await cores[other]!.waitFor('message.added', (m) => m.body === body);
    }
    await proxy.restore();
    await carol.waitFor('room.changed', joined('carol', room), 30_000, from);
    await until('carol has caught up', async () => ((await bodies('carol')).includes('missed three') ? true : undefined));
    // A live message after the catch-up: neither doubled nor out of order.
    await cores.bob!.call('messages.send', { conversationId: conversations[`bob:${room}`]!, body: 'welcome back' });
    await carol.waitFor('message.added', (m) => m.body === 'welcome back', 20_000, from);
    expect(await bodies('carol')).toEqual(['Hello room <b>not bold</b>', 'Hi all', ...missed, 'welcome back']);
    expect(carol.logs.join('\n')).toContain(`caught up ${room} from its archive: 3 new messages`);
  });

  it('a resumed stream is still in its rooms: no rejoin, and what was said meanwhile arrives once', async () => {
    const carol = cores.carol!;
    const from = carol.events.length;
    const dropped = carol.nextState(accounts.carol!.id, (a) => a.connection.state === 'waiting');
    proxy.sever();
    await dropped;
    const back = carol.nextState(accounts.carol!.id, isOnline);
    await cores.bob!.call('messages.send', { conversationId: conversations[`bob:${room}`]!, body: 'during the blink' });
    await back;
    await carol.waitFor('message.added', (m) => m.body === 'during the blink', 20_000, from);
    expect(carol.logs.join('\n')).toContain('resumed the session');
    expect(carol.events.slice(from).some((e) => e.event === 'room.changed')).toBe(false);
    expect((await bodies('carol')).filter((b) => b === 'during the blink')).toHaveLength(1);
  });

  it('a nick already taken is refused in words, and another one works', async () => {
    const other = `nicks@${service}`;
    await join('alice', other, 'Alice');
    await expect(join('bob', other, 'Alice')).rejects.toThrow(/already taken/);
    expect(await join('bob', other, 'Bob')).toMatchObject({ state: 'joined', nick: 'Bob' });
    await expect(cores.bob!.call('rooms.setNick', { accountId: accounts.bob!.id, room: other, nick: 'Alice' })).rejects.toThrow(/already taken/);
    expect(await cores.bob!.call('rooms.setNick', { accountId: accounts.bob!.id, room: other, nick: 'Robert' })).toMatchObject({ nick: 'Robert' });
    await until('alice sees the new nick', async () => {
      const list = await cores.alice!.call('rooms.occupants', { accountId: accounts.alice!.id, room: other });
      return list.some((o) => o.nick === 'Robert') && !list.some((o) => o.nick === 'Bob') ? true : undefined;
    });
  });

  it('a kick and a ban are seen by everyone in the room', async () => {
    const carol = cores.carol!;
    let from = carol.events.length;
    const bobFrom = cores.bob!.events.length;
    await cores.alice!.call('rooms.setRole', { accountId: accounts.alice!.id, room, nick: 'Carol', role: 'none', reason: 'cool off' });
    const kicked = await carol.waitFor('room.changed', (r) => r.jid === room && r.state === 'left', 20_000, from);
    expect(kicked.error).toMatch(/removed from the room.*cool off/);
    const seen = await cores.bob!.waitFor('room.occupants', (e) => e.room === room && e.removed.some((r) => r.nick === 'Carol'), 20_000, bobFrom);
    expect(seen.removed.find((r) => r.nick === 'Carol')).toMatchObject({ why: 'kicked', reason: 'cool off' });

    await join('carol', room, 'Carol');
    from = carol.events.length;
    const bobAgain = cores.bob!.events.length;
    await cores.alice!.call('rooms.setAffiliation', { accountId: accounts.alice!.id, room, jid: jids.carol!, affiliation: 'outcast' });
    const banned = await carol.waitFor('room.changed', (r) => r.jid === room && r.state === 'left', 20_000, from);
    expect(banned.error).toMatch(/banned/);
    const seenBan = await cores.bob!.waitFor('room.occupants', (e) => e.room === room && e.removed.some((r) => r.nick === 'Carol'), 20_000, bobAgain);
    expect(seenBan.removed.find((r) => r.nick === 'Carol')?.why).toBe('banned');
    await expect(join('carol', room, 'Carol')).rejects.toThrow(/banned from this room/);
  });

  it('a bookmark made on one instance of an account appears on the second, which joins the room', async () => {
    const second = await startCore({ server });
    cores.alice2 = second;
    accounts.alice2 = await second.call('accounts.add', accountFor(server, jids.alice!, 'alice-pw'));
    // Synced: its presence, with the caps that ask for bookmark notifications, has reached the server.
    await second.waitForState(accounts.alice2.id, (a) => isOnline(a) && !a.connection.syncing);
    await until('the second instance has read the bookmarks', () => second.events.find((e) => e.event === 'bookmarks.changed'));
    const other = `bookmarked@${service}`;
    await cores.alice!.call('bookmarks.set', { accountId: accounts.alice!.id, jid: other, name: 'Book club', autojoin: true, nick: 'Alice' });
    const pushed = await second.waitFor('bookmarks.changed', (e) => e.bookmarks.some((b) => b.jid === other));
    expect(pushed.bookmarks.find((b) => b.jid === other)).toMatchObject({ name: 'Book club', autojoin: true, nick: 'Alice', hasPassword: false });
    await second.waitFor('room.changed', joined('alice2', other));
    await cores.alice!.call('bookmarks.remove', { accountId: accounts.alice!.id, jid: other });
    await second.waitFor('bookmarks.changed', (e) => !e.bookmarks.some((b) => b.jid === other));
  });

  it('self-ping notices that the room forgot us and rejoins; a server restart rejoins every room', async () => {
    const bob = cores.bob!;
    let from = bob.events.length;
    // The room loses bob without telling him, as after a restart of the room service alone.
    const forget = `local r = prosody.hosts["${service}"].modules.muc.get_room_from_jid("${room}"); local id = "${room}/Bob"; r._occupants[id] = nil; for j, n in pairs(r._jid_nick) do if n == id then r._jid_nick[j] = nil end end`;
    await server.shell(`> ${forget}`);
    await bob.waitFor('room.changed', (r) => r.jid === room && r.state === 'joining', 20_000, from);
    await bob.waitFor('room.changed', joined('bob', room), 20_000, from);
    expect(bob.logs.join('\n')).toContain('the room no longer knows us');
    const list = await cores.alice!.call('rooms.occupants', { accountId: accounts.alice!.id, room });
    expect(list.some((o) => o.nick === 'Bob')).toBe(true);

    from = bob.events.length;
    const aliceFrom = cores.alice!.events.length;
    await server.stop();
    await server.start();
    await bob.waitFor('room.changed', joined('bob', room), 60_000, from);
    await cores.alice!.waitFor('room.changed', joined('alice', room), 60_000, aliceFrom);
    await cores.alice!.call('messages.send', { conversationId: conversations[`alice:${room}`]!, body: 'after the restart' });
    const got: MessageView = await bob.waitFor('message.added', (m) => m.body === 'after the restart', 20_000, from);
    expect(got.from).toBe(`${room}/Alice`);
  }, 150_000);
});
