// Group chat parsers with hostile fixtures, and the archive's rule that only the same occupant
// may correct or retract a room message (moderators excepted, when the room says so).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { parseMessage } from '../../main/core/xmpp/chat';
import {
  adminQuery,
  joinPresence,
  parseDataForm,
  parsePrivateMessage,
  parseRoomArchiveResult,
  parseRoomMessage,
  parseRoomPresence,
  selfPingVerdict,
  submitForm,
  type ParsedRoomMessage,
  type RoomMessageContext,
} from '../../main/core/xmpp/muc';
import { parseBookmarkItems, parseBookmarkNotification, parseLegacyBookmarks, publishBookmark } from '../../main/core/xmpp/bookmarks';
import { MucFeature } from '../../main/core/features/muc';
import { Hooks } from '../../main/core/features/hooks';
import { ACCOUNT, ME, makeArchive, type ArchiveFixture } from './archive-support';

const ROOM = 'lounge@conference.example.org';
const NOW = Date.UTC(2025, 5, 1);
const ctx: RoomMessageContext = { room: ROOM, ownBareJid: ME, ownNick: 'me', ownOccupantId: 'occ-me', occupantIds: true, now: NOW };
const roomMsg = (xml: string, over: Partial<RoomMessageContext> = {}) => parseRoomMessage(parse(xml), { ...ctx, ...over });
const presenceCtx = { isRoom: (bare: string) => bare === ROOM, ownNick: () => 'me', occupantIds: () => true };

function record(parsed: ParsedRoomMessage) {
  if (parsed.kind !== 'message') throw new Error(`not a message: ${JSON.stringify(parsed)}`);
  return parsed.record;
}

describe('room messages', () => {
  it('files a message under the room with the occupant as sender, the room’s stanza-id and occupant-id', () => {
    const parsed = roomMsg(`<message from="${ROOM}/Bob" type="groupchat" id="m1"><body>hi &lt;b&gt;</body>
      <stanza-id xmlns="urn:xmpp:sid:0" by="${ROOM}" id="s1"/><stanza-id xmlns="urn:xmpp:sid:0" by="evil@example.org" id="forged"/>
      <occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-bob"/><origin-id xmlns="urn:xmpp:sid:0" id="o1"/></message>`);
    expect(record(parsed)).toEqual({
      peer: ROOM,
      direction: 'in',
      sender: `${ROOM}/Bob`,
      messageId: 'm1',
      originId: 'o1',
      stanzaId: { id: 's1', by: ROOM },
      occupantId: 'occ-bob',
      body: 'hi <b>',
      ts: NOW,
      state: 'received',
    });
  });

  it('recognises our own echo by occupant-id even under another nick, and files it as ours', () => {
    const echo = record(roomMsg(`<message from="${ROOM}/renamed" type="groupchat" id="x"><body>mine</body>
      <occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-me"/><origin-id xmlns="urn:xmpp:sid:0" id="x"/></message>`));
    expect(echo).toMatchObject({ direction: 'out', sender: ME, originId: 'x', state: 'delivered' });
    // Our nick, taken over by someone else with another occupant-id: not ours.
    const impostor = record(roomMsg(`<message from="${ROOM}/me" type="groupchat"><body>not me</body>
      <occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-other"/></message>`));
    expect(impostor).toMatchObject({ direction: 'in', sender: `${ROOM}/me` });
  });

  it('ignores an occupant-id the room does not vouch for (the sender could have put it there)', () => {
    const parsed = record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><body>x</body><occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-me"/></message>`, { occupantIds: false }));
    expect(parsed.occupantId).toBeUndefined();
    expect(parsed.direction).toBe('in');
  });

  it('times a message by a delay only when the room added it; another delay is timed on arrival, none in the future', () => {
    const stamp = '2025-05-01T10:00:00Z';
    const byRoom = record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><body>old</body><delay xmlns="urn:xmpp:delay" from="${ROOM}" stamp="${stamp}"/></message>`));
    expect(byRoom.ts).toBe(Date.parse(stamp));
    const bySender = record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><body>old?</body><delay xmlns="urn:xmpp:delay" from="bob@example.org" stamp="${stamp}"/></message>`));
    expect(bySender.ts).toBe(NOW);
    const future = record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><body>later</body><delay xmlns="urn:xmpp:delay" from="${ROOM}" stamp="2030-01-01T00:00:00Z"/></message>`));
    expect(future.ts).toBe(NOW);
  });

  it('refuses a room message from anyone but the room, and a moderation claimed by an occupant', () => {
    expect(roomMsg(`<message from="lounge@elsewhere.org/Bob" type="groupchat"><body>x</body></message>`).kind).toBe('rejected');
    const claimed = roomMsg(`<message from="${ROOM}/Mallory" type="groupchat"><retract xmlns="urn:xmpp:message-retract:1" id="s1">
      <moderated xmlns="urn:xmpp:message-moderate:1" by="${ROOM}/Mallory"/></retract></message>`);
    expect(claimed).toMatchObject({ kind: 'rejected' });
  });

  it('reads a moderator retraction from the room itself (XEP-0425 v1 and v0)', () => {
    const v1 = roomMsg(`<message from="${ROOM}" type="groupchat" id="r1"><retract xmlns="urn:xmpp:message-retract:1" id="s1">
      <moderated xmlns="urn:xmpp:message-moderate:1" by="${ROOM}/Mod"/><reason>spam</reason></retract></message>`);
    expect(v1).toMatchObject({ kind: 'moderated', event: { kind: 'retraction', target: 's1', moderated: true, sender: ROOM }, moderator: `${ROOM}/Mod`, reason: 'spam' });
    const v0 = roomMsg(`<message from="${ROOM}" type="groupchat"><apply-to xmlns="urn:xmpp:fasten:0" id="s2">
      <moderated xmlns="urn:xmpp:message-moderate:0" by="${ROOM}/Mod"><retract xmlns="urn:xmpp:message-retract:0"/></moderated></apply-to></message>`);
    expect(v0).toMatchObject({ kind: 'moderated', event: { target: 's2' } });
  });

  it('reads a subject, a correction, a retraction and reactions by an occupant', () => {
    expect(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><subject>Plans</subject></message>`)).toEqual({ kind: 'subject', room: ROOM, subject: 'Plans', nick: 'Bob' });
    expect(record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><body>fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="m1"/></message>`)).replaces).toBe('m1');
    expect(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><retract xmlns="urn:xmpp:message-retract:1" id="s1"/></message>`)).toMatchObject({
      kind: 'event',
      event: { kind: 'retraction', sender: `${ROOM}/Bob`, target: 's1' },
    });
    expect(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><reactions xmlns="urn:xmpp:reactions:0" id="s1"><reaction>👍</reaction></reactions></message>`)).toMatchObject({
      kind: 'event',
      event: { kind: 'reaction', emojis: ['👍'] },
    });
  });

  it('takes a room archive result only from that room, for a query we sent, with the archive’s id and time', () => {
    const result = (from: string, queryid = 'q1') =>
      parseRoomArchiveResult(
        parse(`<message from="${from}"><result xmlns="urn:xmpp:mam:2" queryid="${queryid}" id="a1"><forwarded xmlns="urn:xmpp:forward:0">
        <delay xmlns="urn:xmpp:delay" stamp="2025-05-01T10:00:00Z"/><message from="${ROOM}/Bob" type="groupchat"><body>archived</body></message></forwarded></result></message>`),
        { ...ctx, queryIds: new Set(['q1']) },
      );
    const ok = result(ROOM);
    expect(ok).toMatchObject({ kind: 'result', archiveId: 'a1', message: { kind: 'message', record: { stanzaId: { id: 'a1', by: ROOM }, ts: Date.parse('2025-05-01T10:00:00Z') } } });
    expect(result('lounge@conference.example.org/Bob').kind).toBe('rejected');
    expect(result(ME).kind).toBe('rejected');
    expect(result(ROOM, 'other').kind).toBe('rejected');
  });
});

describe('private messages from a room', () => {
  it('belong to the occupant’s room JID, never to a one-to-one chat, and are timed on arrival', () => {
    const parsed = parsePrivateMessage(parse(`<message from="${ROOM}/Bob" type="chat" id="p1"><body>psst</body><delay xmlns="urn:xmpp:delay" stamp="2020-01-01T00:00:00Z"/></message>`), ROOM, NOW);
    expect(parsed).toMatchObject({ kind: 'private', record: { peer: `${ROOM}/Bob`, sender: `${ROOM}/Bob`, ts: NOW } });
  });

  it('are kept with the occupant when they come from our own archive or a carbon (marked muc#user)', () => {
    const marked = parseMessage(parse(`<message from="${ROOM}/Bob" to="${ME}/r1" type="chat"><body>psst</body><x xmlns="http://jabber.org/protocol/muc#user"/></message>`), { ownBareJid: ME, now: NOW });
    expect(marked).toMatchObject({ kind: 'chat', record: { peer: `${ROOM}/Bob`, sender: `${ROOM}/Bob` } });
  });
});

describe('room presences', () => {
  const presence = (xml: string) => parseRoomPresence(parse(xml), presenceCtx);

  it('reads an occupant with role, affiliation, real JID and occupant-id; our own by status 110', () => {
    expect(presence(`<presence from="${ROOM}/Bob"><x xmlns="http://jabber.org/protocol/muc#user"><item role="moderator" affiliation="admin" jid="Bob@example.org/phone"/></x>
      <occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-bob"/><show>away</show></presence>`)).toEqual({
      kind: 'available',
      room: ROOM,
      self: false,
      created: false,
      occupant: { nick: 'Bob', role: 'moderator', affiliation: 'admin', jid: 'bob@example.org', occupantId: 'occ-bob', show: 'away' },
    });
    expect(presence(`<presence from="${ROOM}/me2"><x xmlns="http://jabber.org/protocol/muc#user"><item role="participant" affiliation="none"/><status code="110"/><status code="201"/></x></presence>`)).toMatchObject({ self: true, created: true });
  });

  it('says why someone left: kicked, banned, renamed, room destroyed', () => {
    const gone = (codes: string, extra = '') => presence(`<presence from="${ROOM}/Bob" type="unavailable"><x xmlns="http://jabber.org/protocol/muc#user"><item role="none"><reason>rude</reason></item>${codes}${extra}</x></presence>`);
    expect(gone('<status code="307"/>')).toMatchObject({ departure: 'kicked', reason: 'rude' });
    expect(gone('<status code="301"/>')).toMatchObject({ departure: 'banned' });
    expect(presence(`<presence from="${ROOM}/Bob" type="unavailable"><x xmlns="http://jabber.org/protocol/muc#user"><item nick="Robert"/><status code="303"/></x></presence>`)).toMatchObject({ departure: 'nick-changed', newNick: 'Robert' });
    expect(gone('', `<destroy jid="new@conference.example.org"><reason>moved</reason></destroy>`)).toMatchObject({ departure: 'destroyed', alternate: 'new@conference.example.org' });
  });

  it('turns a join refusal into words, and ignores presences of rooms we are not in', () => {
    const refused = (condition: string) =>
      presence(`<presence from="${ROOM}/me" type="error"><error type="cancel"><${condition} xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`);
    expect(refused('conflict')).toMatchObject({ kind: 'error', condition: 'conflict', text: expect.stringMatching(/already taken/) });
    expect(refused('registration-required')).toMatchObject({ text: expect.stringMatching(/members only/) });
    expect(refused('forbidden')).toMatchObject({ text: expect.stringMatching(/banned/) });
    expect(refused('not-authorized')).toMatchObject({ text: expect.stringMatching(/password/) });
    expect(refused('item-not-found')).toMatchObject({ text: expect.stringMatching(/does not exist/) });
    expect(presence(`<presence from="other@conference.example.org/Bob"><x xmlns="http://jabber.org/protocol/muc#user"/></presence>`).kind).toBe('ignored');
  });
});

describe('what we send and the forms we show', () => {
  it('joins without history replay where the room archives, with the password', () => {
    expect(joinPresence(ROOM, 'me', { maxstanzas: 0, password: 'pw' }).toString()).toBe(
      `<presence to="${ROOM}/me"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/><password>pw</password></x></presence>`,
    );
    expect(adminQuery([{ nick: 'Bob', role: 'none', reason: 'bye' }]).toString()).toBe('<query xmlns="http://jabber.org/protocol/muc#admin"><item nick="Bob" role="none"><reason>bye</reason></item></query>');
  });

  it('reads a configuration form generically and submits values back', () => {
    const form = parseDataForm(parse(`<x xmlns="jabber:x:data" type="form"><title>Config</title><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/muc#roomconfig</value></field>
      <field var="muc#roomconfig_roomname" type="text-single" label="Name"><value/></field>
      <field var="muc#roomconfig_whois" type="list-single" label="Who sees JIDs"><value>moderators</value><option label="Moderators"><value>moderators</value></option><option><value>anyone</value></option></field></x>`));
    expect(form?.title).toBe('Config');
    expect(form?.fields[2]).toEqual({ var: 'muc#roomconfig_whois', type: 'list-single', label: 'Who sees JIDs', values: ['moderators'], options: [{ value: 'moderators', label: 'Moderators' }, { value: 'anyone' }] });
    expect(submitForm('http://jabber.org/protocol/muc#roomconfig', { 'muc#roomconfig_roomname': ['Lounge'] }).toString()).toContain('<field var="muc#roomconfig_roomname"><value>Lounge</value></field>');
  });

  it('reads a self-ping answer as XEP-0410 says', () => {
    expect(selfPingVerdict(undefined)).toBe('joined');
    expect(selfPingVerdict({ condition: 'service-unavailable' })).toBe('joined');
    expect(selfPingVerdict({ condition: 'not-acceptable' })).toBe('not-joined');
    expect(selfPingVerdict({ condition: 'remote-server-not-found' })).toBe('unreachable');
    expect(selfPingVerdict({ name: 'TimeoutError' })).toBe('unreachable');
  });
});

describe('bookmarks', () => {
  const event = (from: string) =>
    parse(`<message from="${from}" type="headline"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:xmpp:bookmarks:1">
      <item id="${ROOM}"><conference xmlns="urn:xmpp:bookmarks:1" name="Lounge" autojoin="true"><nick>me</nick></conference></item>
      <retract id="old@conference.example.org"/></items></event></message>`);

  it('takes a bookmark push only from our own account; one from anyone else is ignored', () => {
    expect(parseBookmarkNotification(event(ME), ME)).toEqual({
      kind: 'bookmarks',
      set: [{ jid: ROOM, name: 'Lounge', autojoin: true, nick: 'me' }],
      removed: ['old@conference.example.org'],
    });
    expect(parseBookmarkNotification(event('mallory@example.org'), ME).kind).toBe('rejected');
    expect(parseBookmarkNotification(event(`${ME}/other-device`), ME).kind).toBe('rejected');
  });

  it('reads fetched items and legacy private storage, skipping ones that name no room', () => {
    const items = parse(`<pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:xmpp:bookmarks:1">
      <item id="${ROOM}"><conference xmlns="urn:xmpp:bookmarks:1" autojoin="1"><password>pw</password></conference></item>
      <item id="not a jid/x"><conference xmlns="urn:xmpp:bookmarks:1"/></item></items></pubsub>`);
    expect(parseBookmarkItems(items)).toEqual([{ jid: ROOM, autojoin: true, password: 'pw' }]);
    const legacy = parse(`<query xmlns="jabber:iq:private"><storage xmlns="storage:bookmarks"><conference jid="${ROOM}" autojoin="true" name="L"><nick>me</nick></conference></storage></query>`);
    expect(parseLegacyBookmarks(legacy)).toEqual([{ jid: ROOM, name: 'L', autojoin: true, nick: 'me' }]);
  });

  it('publishes with the whitelist access model XEP-0402 requires', () => {
    expect(publishBookmark({ jid: ROOM, autojoin: true }).toString()).toContain('<field var="pubsub#access_model"><value>whitelist</value></field>');
  });
});

describe('who may change a room message (archive, by occupant-id)', () => {
  let fixture: ArchiveFixture;
  beforeEach(() => {
    fixture = makeArchive();
    fixture.archive.conversations.openRoom(ACCOUNT, ROOM);
  });
  afterEach(() => fixture.close());

  const bob = (xml: string, occupant = 'occ-bob', nick = 'Bob') =>
    roomMsg(`<message from="${ROOM}/${nick}" type="groupchat" ${xml.startsWith('<') ? '' : xml}>${xml.startsWith('<') ? xml : ''}<occupant-id xmlns="urn:xmpp:occupant-id:0" id="${occupant}"/></message>`);

  function storeOriginal() {
    const original = record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat" id="m1"><body>original</body>
      <stanza-id xmlns="urn:xmpp:sid:0" by="${ROOM}" id="s1"/><occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-bob"/></message>`));
    return fixture.archive.messages.store(ACCOUNT, original).message;
  }

  it('refuses a correction, a retraction claiming another occupant (same nick, other occupant-id) and applies the real one', () => {
    const original = storeOriginal();
    const forged = record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat" id="c1"><body>forged</body><replace xmlns="urn:xmpp:message-correct:0" id="m1"/>
      <occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-mallory"/></message>`));
    fixture.archive.messages.store(ACCOUNT, forged);
    expect(fixture.archive.messages.get(original.id).body).toBe('original');

    const retraction = bob('<retract xmlns="urn:xmpp:message-retract:1" id="s1"/>', 'occ-mallory');
    if (retraction.kind !== 'event') throw new Error('not an event');
    fixture.archive.messages.storeEvent(ACCOUNT, retraction.event);
    expect(fixture.archive.messages.get(original.id).retractedAt).toBeUndefined();

    const fromOtherNick = bob('<retract xmlns="urn:xmpp:message-retract:1" id="s1"/>', 'occ-bob', 'Mallory');
    if (fromOtherNick.kind !== 'event') throw new Error('not an event');
    fixture.archive.messages.storeEvent(ACCOUNT, { ...fromOtherNick.event, messageId: 'other' });
    expect(fixture.archive.messages.get(original.id).retractedAt).toBeUndefined();

    const real = record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat" id="c2"><body>fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="m1"/>
      <occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ-bob"/></message>`));
    fixture.archive.messages.store(ACCOUNT, real);
    expect(fixture.archive.messages.get(original.id).body).toBe('fixed');
  });

  it('refuses a reaction claiming another occupant: someone who takes over a nick does not replace its reactions', () => {
    const original = storeOriginal();
    const react = (emoji: string, occupant: string, id: string) => {
      const parsed = bob(`<reactions xmlns="urn:xmpp:reactions:0" id="s1"><reaction>${emoji}</reaction></reactions>`, occupant, 'Carol');
      if (parsed.kind !== 'event') throw new Error('not an event');
      fixture.archive.messages.storeEvent(ACCOUNT, { ...parsed.event, messageId: id, ts: NOW + Number(id.slice(1)) });
    };
    react('👍', 'occ-carol', 'r1');
    // Carol left; Mallory joined as Carol and sets "her" reactions.
    react('🎉', 'occ-mallory', 'r2');
    expect(fixture.archive.messages.get(original.id).reactions).toEqual([
      { emoji: '👍', from: [`${ROOM}/Carol`] },
      { emoji: '🎉', from: [`${ROOM}/Carol`] },
    ]);
    // The real Carol changes her mind: her set is replaced, Mallory's is not.
    react('❤️', 'occ-carol', 'r3');
    expect(fixture.archive.messages.get(original.id).reactions).toEqual([
      { emoji: '🎉', from: [`${ROOM}/Carol`] },
      { emoji: '❤️', from: [`${ROOM}/Carol`] },
    ]);
  });

  it('counts a reaction under the reacting occupant, and applies a moderator retraction the room announces', () => {
    const original = storeOriginal();
    const reaction = bob('<reactions xmlns="urn:xmpp:reactions:0" id="s1"><reaction>🎉</reaction></reactions>', 'occ-carol', 'Carol');
    if (reaction.kind !== 'event') throw new Error('not an event');
    fixture.archive.messages.storeEvent(ACCOUNT, reaction.event);
    expect(fixture.archive.messages.get(original.id).reactions).toEqual([{ emoji: '🎉', from: [`${ROOM}/Carol`] }]);

    const moderated = roomMsg(`<message from="${ROOM}" type="groupchat" id="mod1"><retract xmlns="urn:xmpp:message-retract:1" id="s1"><moderated xmlns="urn:xmpp:message-moderate:1" by="${ROOM}/Mod"/></retract></message>`);
    if (moderated.kind !== 'moderated') throw new Error('not a moderation');
    fixture.archive.messages.storeEvent(ACCOUNT, moderated.event);
    expect(fixture.archive.messages.get(original.id)).toMatchObject({ body: '' });
    expect(fixture.archive.messages.get(original.id).retractedAt).toBeDefined();
  });
});

describe('a presence flood on joining a big room', () => {
  let fixture: ArchiveFixture;
  afterEach(() => fixture.close());

  it('applies 5,000 occupants at once and announces them in one batch when our own presence ends the join', () => {
    fixture = makeArchive();
    fixture.archive.rooms.put(ACCOUNT, { jid: ROOM, nick: 'me' });
    const events: Array<{ event: string; payload: unknown }> = [];
    const timers: Array<() => void> = [];
    const muc = new MucFeature(
      {
        accountId: ACCOUNT,
        bare: ME,
        archive: fixture.archive,
        emit: (event, payload) => void events.push({ event, payload }),
        log: () => {},
        clock: { now: () => NOW, random: () => 0, setTimeout: (fn) => timers.push(fn), clearTimeout: () => {} },
        liveSession: () => undefined,
        hooks: new Hooks(() => {}),
      },
      { page: () => Promise.reject(new Error('no archive here')) },
    );
    const occupant = (nick: string, extra = '') =>
      parse(`<presence from="${ROOM}/${nick}"><x xmlns="http://jabber.org/protocol/muc#user"><item role="participant" affiliation="none"/>${extra}</x></presence>`);
    for (let i = 0; i < 5000; i++) expect(muc.stanza(occupant(`user${i}`))).toBe(true);
    expect(events.filter((e) => e.event === 'room.occupants')).toHaveLength(0);
    muc.stanza(occupant('me', '<status code="110"/>'));
    const batches = events.filter((e) => e.event === 'room.occupants').map((e) => e.payload as { added: unknown[] });
    expect(batches).toHaveLength(1);
    expect(batches[0]!.added).toHaveLength(5001);
    expect(muc.occupants(ROOM)).toHaveLength(5001);
    // Later changes come in batches too: a timer, not an event per presence.
    for (let i = 0; i < 100; i++) muc.stanza(parse(`<presence from="${ROOM}/user${i}" type="unavailable"><x xmlns="http://jabber.org/protocol/muc#user"><item role="none"/></x></presence>`));
    expect(events.filter((e) => e.event === 'room.occupants')).toHaveLength(1);
    for (const fire of timers.splice(0)) fire();
    const after = events.filter((e) => e.event === 'room.occupants').map((e) => e.payload as { removed: unknown[] });
    expect(after).toHaveLength(2);
    expect(after[1]!.removed).toHaveLength(100);
  });
});

describe('encrypted room messages (XEP-0384 §6.3)', () => {
  const encrypted = (from: string, extra = '') => `<message from="${ROOM}/${from}" type="groupchat" id="m9">
    <encrypted xmlns="urn:xmpp:omemo:2"><header sid="7"><keys jid="${ME}"><key rid="1">AAAA</key></keys></header><payload>AAAA</payload></encrypted>
    <body>I sent you an OMEMO encrypted message but your client doesn't seem to support that.</body>${extra}</message>`;
  const occupantId = (id: string) => `<occupant-id xmlns="urn:xmpp:occupant-id:0" id="${id}"/>`;
  const asked: Array<{ sender: string; peer: string; direction: string; groupchat?: boolean }> = [];
  const decrypt: NonNullable<RoomMessageContext['decrypt']> = (_message, parties) => {
    asked.push(parties);
    return parties.sender === ME ? { kind: 'skip', reason: 'our own encrypted message' } : { kind: 'text', body: 'the real text', encryption: 'omemo2', senderDevice: 7 };
  };
  const realJid = (nick: string, id?: string) => (id === 'occ-bob' ? 'bob@example.org' : nick === 'Dave' ? 'dave@example.org' : undefined);
  beforeEach(() => void asked.splice(0));

  it('reads a message with the real JID the occupant list gives for its occupant-id, addressed to the room', () => {
    const got = record(roomMsg(encrypted('Bob', occupantId('occ-bob')), { decrypt, realJid }));
    expect(got).toMatchObject({ body: 'the real text', encryption: 'omemo2', senderDevice: 7, sender: `${ROOM}/Bob`, direction: 'in' });
    expect(got.undecryptable).toBeUndefined();
    expect(asked).toEqual([{ sender: 'bob@example.org', peer: ROOM, direction: 'in', groupchat: true }]);
  });

  it('stores a message from an occupant whose real JID is unknown as undecryptable, with the reason, never the fallback as text', () => {
    const got = record(roomMsg(encrypted('Mallory', occupantId('occ-mallory')), { decrypt, realJid }));
    expect(got).toMatchObject({ encryption: 'omemo2', undecryptable: true });
    expect(got.body).toMatch(/could not be decrypted: the room does not show who Mallory is/);
    expect(asked).toEqual([]);
  });

  it('takes our own echo as a confirmation only, and drops nothing else silently', () => {
    expect(roomMsg(encrypted('me', `${occupantId('occ-me')}<origin-id xmlns="urn:xmpp:sid:0" id="o9"/>`), { decrypt, realJid })).toEqual({
      kind: 'echo',
      messageId: 'm9',
      originId: 'o9',
    });
    // Without occupant-ids the nick says who it is.
    const dave = record(roomMsg(encrypted('Dave'), { decrypt, realJid, occupantIds: false }));
    expect(dave.body).toBe('the real text');
  });

  it('leaves a plain message and an unencrypted room alone', () => {
    expect(record(roomMsg(`<message from="${ROOM}/Bob" type="groupchat"><body>plain</body></message>`, { decrypt, realJid }))).not.toHaveProperty('encryption');
    expect(record(roomMsg(encrypted('Bob', occupantId('occ-bob'))))).not.toHaveProperty('encryption');
    expect(asked).toEqual([]);
  });
});
