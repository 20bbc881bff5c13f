// Message relations (XEP-0308, 0461/0428, 0444, 0424) and chat states (XEP-0085): the pure
// parsers and builders with forged stanzas, then what the features do with them against a
// temporary archive and a fake session that records what would go out.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Element } from '@xmpp/xml';
import parse from '@xmpp/xml/lib/parse.js';
import { chatMessage, parseArchivedMessage, parseMessage } from '../../main/core/xmpp/chat';
import { MAX_REACTIONS, RETRACTION_FALLBACK, isEmoji, parseReply, relationMessage } from '../../main/core/xmpp/relations';
import { chatStateMessage, parseChatState } from '../../main/core/xmpp/chat-states';
import type { FeatureContext } from '../../main/core/features/feature';
import { Hooks } from '../../main/core/features/hooks';
import { ChatFeature } from '../../main/core/features/chat';
import { RelationsFeature } from '../../main/core/features/relations';
import { ChatStatesFeature } from '../../main/core/features/chat-states';
import type { MarkersFeature } from '../../main/core/features/markers';
import type { DiscoFeature } from '../../main/core/features/disco';
import { catchUp } from '../../main/core/features/mam';
import type { Session } from '../../main/core/xmpp/session';
import type { EventName, MessageView } from '../../preload/contract';
import { ACCOUNT, ME, PEER, T0, fromPeer, makeArchive, toPeer, type ArchiveFixture } from './archive-support';

const NOW = 1_750_000_000_000;
const ctx = { ownBareJid: ME, now: NOW };
const msg = (text: string) => parseMessage(parse(text), ctx);
const fromBob = (inner: string, attrs = '') => msg(`<message from="${PEER}/phone" to="${ME}/desk" type="chat" id="x1" ${attrs}>${inner}</message>`);
const sentCarbon = (inner: string) =>
  msg(`<message from="${ME}" to="${ME}/desk"><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">
    <message from="${ME}/phone" to="${PEER}" type="chat" id="c1">${inner}</message></forwarded></sent></message>`);
const reactions = (id: string, ...emojis: string[]) =>
  `<reactions xmlns="urn:xmpp:reactions:0" id="${id}">${emojis.map((e) => `<reaction>${e}</reaction>`).join('')}</reactions>`;

describe('parsing relations', () => {
  it('reads a correction with the id it replaces and the sender the stanza proves', () => {
    expect(fromBob(`<body>fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="peer-1"/>`)).toMatchObject({
      kind: 'chat',
      record: { sender: PEER, body: 'fixed', replaces: 'peer-1' },
    });
    // A carbon of my own correction from my other device is mine, to my peer.
    expect(sentCarbon(`<body>fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="mine-1"/>`)).toMatchObject({
      kind: 'chat',
      record: { direction: 'out', sender: ME, peer: PEER, replaces: 'mine-1' },
    });
  });

  it('cuts a reply fallback only where it lies within the body, counted in code points', () => {
    const body = '> 🙂 are you in?\nyes!';
    const quoteEnd = Array.from('> 🙂 are you in?\n').length;
    const reply = (range: string, forNs = 'urn:xmpp:reply:0') =>
      fromBob(`<body>${body}</body><reply xmlns="urn:xmpp:reply:0" to="${ME}/desk" id="mine-1"/>
        <fallback xmlns="urn:xmpp:fallback:0" for="${forNs}">${range}</fallback>`);
    expect(reply(`<body start="0" end="${quoteEnd}"/>`)).toMatchObject({ record: { body: 'yes!', replyTo: { id: 'mine-1', to: ME } } });
    for (const hostile of [
      `<body start="0" end="999"/>`,
      `<body start="-1" end="3"/>`,
      `<body start="5" end="2"/>`,
      `<body start="x" end="y"/>`,
      `<body/>`,
      `<body start="0" end="${quoteEnd}"/><body start="2" end="6"/>`,
      `<body start="0" end="${Array.from(body).length}"/>`,
    ]) {
      expect(reply(hostile), hostile).toMatchObject({ record: { body, replyTo: { id: 'mine-1' } } });
    }
    // A fallback for something else is no quote of the reply.
    expect(reply(`<body start="0" end="${quoteEnd}"/>`, 'urn:xmpp:other:0')).toMatchObject({ record: { body } });
    // Without the reply element, a fallback marks nothing we would cut.
    expect(parseReply(parse(`<message><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="3"/></fallback></message>`), body)).toEqual({ body });
  });

  it('reads a sender’s reaction set and refuses floods and garbage instead of reading them as “no reactions”', () => {
    expect(fromBob(reactions('peer-1', '👍', '👍🏽', '👍'))).toMatchObject({ kind: 'event', event: { kind: 'reaction', target: 'peer-1', emojis: ['👍', '👍🏽'], sender: PEER } });
    expect(fromBob(reactions('peer-1'))).toMatchObject({ kind: 'event', event: { kind: 'reaction', emojis: [] } });
    expect(fromBob(reactions('peer-1', '❤️', 'lol', '<b>x</b>'.replaceAll('<', '&lt;')))).toMatchObject({ event: { emojis: ['❤️'] } });
    expect(fromBob(reactions('peer-1', 'lol', 'a'))).toMatchObject({ kind: 'rejected' });
    expect(fromBob(reactions('peer-1', ...Array.from({ length: 101 }, () => '👍')))).toMatchObject({ kind: 'rejected' });
    const many = [...'😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘😗😚😙😋😛'].slice(0, MAX_REACTIONS + 1);
    expect(fromBob(reactions('peer-1', ...many))).toMatchObject({ kind: 'rejected' });
    expect(fromBob(`<reactions xmlns="urn:xmpp:reactions:0"><reaction>👍</reaction></reactions>`)).toMatchObject({ kind: 'rejected' });
  });

  it('knows an emoji from text', () => {
    for (const emoji of ['👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '❤️', '🏴󠁧󠁢󠁳󠁣󠁴󠁿']) expect(isEmoji(emoji), emoji).toBe(true);
    for (const text of ['a', '1', '#', '👍👍', ' ', '', 'ok👍', '\u200D', '👍\n', '🇫']) expect(isEmoji(text), JSON.stringify(text)).toBe(false);
  });

  it('reads a retraction before its fallback body, in the current and the fastened form', () => {
    expect(
      fromBob(`<retract xmlns="urn:xmpp:message-retract:1" id="peer-1"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:message-retract:1"/>
        <body>${RETRACTION_FALLBACK}</body><store xmlns="urn:xmpp:hints"/>`),
    ).toMatchObject({ kind: 'event', event: { kind: 'retraction', target: 'peer-1', sender: PEER } });
    expect(
      fromBob(`<apply-to xmlns="urn:xmpp:fasten:0" id="peer-2"><retract xmlns="urn:xmpp:message-retract:0"/></apply-to><body>old client</body>`),
    ).toMatchObject({ kind: 'event', event: { kind: 'retraction', target: 'peer-2' } });
  });

  it('gives events from our archive the archive’s id, so a second copy is known', () => {
    const inner = parse(`<message from="${PEER}/phone" to="${ME}" type="chat" id="r1">${reactions('mine-1', '🎉')}</message>`);
    expect(parseArchivedMessage(inner, ctx, { id: 'arch-9', by: ME }, NOW - 1000)).toMatchObject({
      kind: 'event',
      event: { stanzaId: { id: 'arch-9', by: ME }, ts: NOW - 1000 },
    });
  });
});

describe('building relations', () => {
  it('sends a reply with the quote marked as its fallback, which a receiver cuts back to what we wrote', () => {
    const stanza = chatMessage(PEER, 'm2', 'sure 👍', { id: 'peer-1', to: PEER, quoted: 'lunch 🍜?\ntoday' });
    expect(stanza.getChildText('body')).toBe('> lunch 🍜?\n> today\nsure 👍');
    expect(stanza.getChild('active', 'http://jabber.org/protocol/chatstates')).toBeDefined();
    const echoed = parse(stanza.toString().replace('<message ', `<message from="${PEER}/phone" `));
    // Our own reply read back (as by the peer's client, here with the roles swapped) is what we wrote.
    expect(parseMessage(echoed, { ownBareJid: PEER, now: NOW })).toMatchObject({ record: { body: 'sure 👍', replyTo: { id: 'peer-1', to: PEER } } });
  });

  it('builds corrections, reactions and retractions as XEP-0308, 0444 and 0424 describe them', () => {
    const correction = relationMessage({ kind: 'correction', peer: PEER, id: 'e1', target: 'mine-1', payload: 'fixed' });
    expect(correction.getChild('replace', 'urn:xmpp:message-correct:0')?.attrs.id).toBe('mine-1');
    expect(correction.getChild('request', 'urn:xmpp:receipts')).toBeDefined();
    const reaction = relationMessage({ kind: 'reaction', peer: PEER, id: 'e2', target: 'peer-1', payload: '["👍","🎉"]' });
    expect(reaction.getChild('reactions', 'urn:xmpp:reactions:0')?.getChildren('reaction').map((r) => r.text())).toEqual(['👍', '🎉']);
    expect(reaction.getChild('store', 'urn:xmpp:hints')).toBeDefined();
    const retraction = relationMessage({ kind: 'retraction', peer: PEER, id: 'e3', target: 'mine-1', payload: '' });
    expect(retraction.getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id).toBe('mine-1');
    expect(retraction.getChild('fallback', 'urn:xmpp:fallback:0')?.attrs.for).toBe('urn:xmpp:message-retract:1');
    expect(retraction.getChildText('body')).toBe(RETRACTION_FALLBACK);
    expect(retraction.getChild('store', 'urn:xmpp:hints')).toBeDefined();
    const state = chatStateMessage(PEER, 'composing');
    expect(state.getChild('no-store', 'urn:xmpp:hints')).toBeDefined();
    expect(state.getChild('body')).toBeUndefined();
  });
});

describe('parsing chat states', () => {
  const CS = 'xmlns="http://jabber.org/protocol/chatstates"';
  const state = (text: string) => parseChatState(parse(text), ME);

  it('reads the peer’s state, alone or on a message', () => {
    expect(state(`<message from="${PEER}/phone" type="chat"><composing ${CS}/><no-store xmlns="urn:xmpp:hints"/></message>`)).toEqual({
      kind: 'state',
      peer: PEER,
      state: 'composing',
      alone: true,
    });
    expect(state(`<message from="${PEER}/phone" type="chat" id="m"><body>hi</body><active ${CS}/></message>`)).toMatchObject({ state: 'active', alone: false });
    expect(state(`<message from="${PEER}/phone" type="chat"><paused ${CS}/><received xmlns="urn:xmpp:receipts" id="m"/></message>`)).toMatchObject({ alone: false });
  });

  it('ignores what my own devices say, what comes in a forged carbon, and group chat', () => {
    expect(state(`<message from="${ME}/phone" type="chat"><composing ${CS}/></message>`)).toMatchObject({ kind: 'ignored' });
    const carbon = (from: string, kind: 'sent' | 'received', inner: string) =>
      state(`<message from="${from}" to="${ME}/desk"><${kind} xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">${inner}</forwarded></${kind}></message>`);
    expect(carbon(ME, 'sent', `<message from="${ME}/phone" to="${PEER}" type="chat"><composing ${CS}/></message>`)).toMatchObject({ kind: 'ignored' });
    expect(carbon(ME, 'received', `<message from="${PEER}/x" to="${ME}/phone" type="chat"><composing ${CS}/></message>`)).toMatchObject({
      kind: 'state',
      peer: PEER,
    });
    expect(carbon('mallory@evil.test', 'received', `<message from="${PEER}/x" type="chat"><composing ${CS}/></message>`)).toEqual({ kind: 'none' });
    expect(state(`<message from="room@muc.test/nick" type="groupchat"><composing ${CS}/></message>`)).toMatchObject({ kind: 'ignored' });
    expect(state(`<message from="${PEER}/phone" type="chat"><body>hi</body></message>`)).toEqual({ kind: 'none' });
    // Held in offline storage: old news.
    expect(state(`<message from="${PEER}/phone" type="chat"><composing ${CS}/><delay xmlns="urn:xmpp:delay" from="example.org" stamp="2025-01-01T00:00:00Z"/></message>`)).toMatchObject({ kind: 'ignored' });
  });
});

describe('applying relations', () => {
  let fixture: ArchiveFixture;
  let sent: Element[];
  let events: Array<{ event: EventName; payload: unknown }>;
  let online: boolean;
  let acks: Array<(stanza: Element) => void>;
  let session: Session;
  let chat: ChatFeature;
  let relations: RelationsFeature;
  let states: ChatStatesFeature;
  let now: number;
  /** A feature the peer's every device says it lacks. */
  let ignoredBy: string | undefined;

  const updates = () => events.filter((e) => e.event === 'message.updated').map((e) => e.payload as MessageView);
  const live = (text: string) => chat.stanza(parse(text), session);
  const stored = (ref: { originId?: string }) =>
    fixture.archive.messages.pageBefore(fixture.archive.conversations.open(ACCOUNT, PEER).id, undefined, 50).messages.find((m) => m.id === ids.get(ref.originId!))!;
  const ids = new Map<string, number>();

  beforeEach(() => {
    fixture = makeArchive();
    sent = [];
    events = [];
    acks = [];
    online = true;
    now = NOW;
    ignoredBy = undefined;
    session = {
      entity: { send: async (stanza: Element) => void sent.push(stanza), on: () => {} },
      streamManagement: { enabled: true, outbound_q: [], on: (event: string, fn: (stanza: Element) => void) => event === 'ack' && acks.push(fn) },
    } as unknown as Session;
    const featureCtx: FeatureContext = {
      accountId: ACCOUNT,
      bare: ME,
      archive: fixture.archive,
      emit: (event, payload) => void events.push({ event, payload }),
      log: () => {},
      clock: { now: () => now++, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      liveSession: () => (online ? session : undefined),
      hooks: new Hooks(() => {}),
    };
    relations = new RelationsFeature(featureCtx);
    chat = new ChatFeature(featureCtx, { receive: () => {} } as unknown as MarkersFeature, relations);
    states = new ChatStatesFeature(featureCtx, { noDeviceSupports: (_peer: string, feature: string) => feature === ignoredBy } as unknown as DiscoFeature);
    relations.wire(session);
    fixture.archive.roster.upsert(ACCOUNT, { jid: PEER, subscription: 'both', groups: [] });
    for (const record of [fromPeer(1), toPeer(2, { state: 'sent' })]) ids.set(record.originId!, fixture.archive.messages.store(ACCOUNT, record).message.id);
  });

  afterEach(() => fixture.close());

  it('applies the author’s correction once, and never one that names someone else’s message', () => {
    const correction = `<message from="${PEER}/phone" to="${ME}/desk" type="chat" id="k1"><body>message 1, fixed</body>
      <replace xmlns="urn:xmpp:message-correct:0" id="peer-1"/><stanza-id xmlns="urn:xmpp:sid:0" id="arch-k1" by="${ME}"/></message>`;
    live(correction);
    live(correction);
    expect(updates().map((m) => m.body)).toEqual(['message 1, fixed']);
    expect(stored({ originId: 'peer-1' })).toMatchObject({ body: 'message 1, fixed', editedAt: expect.any(Number) });
    // The peer claims to correct my message: it stays mine, what they wrote shows as their own message.
    live(`<message from="${PEER}/phone" type="chat" id="k2"><body>you said yes</body><replace xmlns="urn:xmpp:message-correct:0" id="mine-2"/></message>`);
    expect(stored({ originId: 'mine-2' }).body).toBe('reply 2');
    expect(events.filter((e) => e.event === 'message.added').map((e) => (e.payload as MessageView).body)).toEqual(['you said yes']);
  });

  it('applies a carbon of my own correction from my other device', () => {
    live(`<message from="${ME}" to="${ME}/desk"><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">
      <message from="${ME}/phone" to="${PEER}" type="chat" id="c1"><body>reply 2, fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="mine-2"/></message>
      </forwarded></sent></message>`);
    expect(stored({ originId: 'mine-2' }).body).toBe('reply 2, fixed');
  });

  it('lets only the author retract, keeps the tombstone, and refuses a reaction flood', () => {
    live(`<message from="${PEER}/phone" type="chat" id="r1"><retract xmlns="urn:xmpp:message-retract:1" id="mine-2"/><body>${RETRACTION_FALLBACK}</body></message>`);
    expect(stored({ originId: 'mine-2' })).toMatchObject({ body: 'reply 2' });
    expect(updates()).toEqual([]);
    live(`<message from="${PEER}/phone" type="chat" id="r2">${reactions('mine-2', ...Array.from({ length: 500 }, (_, i) => `x${i}`))}</message>`);
    expect(stored({ originId: 'mine-2' }).reactions).toBeUndefined();
    live(`<message from="${PEER}/phone" type="chat" id="r3">${reactions('mine-2', '🎉')}</message>`);
    expect(stored({ originId: 'mine-2' }).reactions).toEqual([{ emoji: '🎉', from: [PEER] }]);
    live(`<message from="${PEER}/phone" type="chat" id="r4"><retract xmlns="urn:xmpp:message-retract:1" id="peer-1"/><body>${RETRACTION_FALLBACK}</body></message>`);
    expect(stored({ originId: 'peer-1' })).toMatchObject({ body: '', retractedAt: expect.any(Number) });
    expect(events.filter((e) => e.event === 'message.added')).toEqual([]);
  });

  it('makes no chat for a stranger who names a message', () => {
    live(`<message from="mallory@evil.test/x" type="chat" id="r1">${reactions('peer-1', '💩')}</message>`);
    expect(fixture.archive.conversations.find(ACCOUNT, 'mallory@evil.test')).toBeUndefined();
    expect(stored({ originId: 'peer-1' }).reactions).toBeUndefined();
  });

  it('corrects, reacts to and retracts my messages archive first, and resends what the server has not acknowledged', () => {
    online = false;
    const corrected = relations.correct(ids.get('mine-2')!, 'reply 2, better');
    expect(corrected).toMatchObject({ body: 'reply 2, better', editedAt: expect.any(Number) });
    relations.react(ids.get('peer-1')!, ['👍']);
    relations.react(ids.get('peer-1')!, ['👍', '🎉']);
    expect(sent).toEqual([]);
    online = true;
    chat.flushOutbox();
    // The older reaction was replaced by the newer set before it ever went out.
    expect(sent.map((s) => s.getChild('replace')?.attrs.id ?? s.getChild('reactions')?.getChildren('reaction').map((r) => r.text()).join(''))).toEqual(['mine-2', '👍🎉']);
    expect(sent[1]!.getChild('reactions')?.attrs.id).toBe('peer-1');
    for (const stanza of sent) for (const ack of acks) ack(stanza);
    sent = [];
    chat.flushOutbox();
    expect(sent).toEqual([]);

    const retracted = relations.retract(ids.get('mine-2')!);
    expect(retracted).toMatchObject({ body: '', retractedAt: expect.any(Number) });
    // It was the chat's newest message: the preview no longer shows it.
    expect(events.filter((e) => e.event === 'conversation.changed').at(-1)?.payload).toMatchObject({ last: { body: '' } });
    expect(sent.map((s) => s.getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id)).toEqual(['mine-2']);
    expect(() => relations.correct(ids.get('mine-2')!, 'too late')).toThrow(/deleted/);
  });

  it('refuses to edit or delete the peer’s messages and to react with text', () => {
    expect(() => relations.correct(ids.get('peer-1')!, 'mine now')).toThrow(/Only your own/);
    expect(() => relations.retract(ids.get('peer-1')!)).toThrow(/Only your own/);
    expect(() => relations.react(ids.get('peer-1')!, ['lol'])).toThrow(/not an emoji/);
    expect(sent).toEqual([]);
  });

  it('sends a reply naming the message it answers, with its quote', () => {
    const reply = chat.send(PEER, 'me too', ids.get('peer-1'));
    expect(reply).toMatchObject({ body: 'me too', replyTo: { ref: 'peer-1', id: ids.get('peer-1') } });
    expect(sent[0]!.getChildText('body')).toBe('> message 1\nme too');
    expect(sent[0]!.getChild('reply', 'urn:xmpp:reply:0')?.attrs).toMatchObject({ id: 'peer-1', to: PEER });
  });

  it('sends typing only to who may hear from us, and shows only a known chat’s', () => {
    const CS = 'xmlns="http://jabber.org/protocol/chatstates"';
    states.send('stranger@else.test', 'composing');
    expect(sent).toEqual([]);
    states.send(PEER, 'composing');
    expect(sent.map((s) => s.toString())).toEqual([chatStateMessage(PEER, 'composing').toString()]);
    ignoredBy = 'http://jabber.org/protocol/chatstates';
    states.send(PEER, 'paused');
    expect(sent).toHaveLength(1);

    expect(states.stanza(parse(`<message from="stranger@else.test/x" type="chat"><composing ${CS}/></message>`))).toBe(true);
    expect(fixture.archive.conversations.find(ACCOUNT, 'stranger@else.test')).toBeUndefined();
    expect(states.stanza(parse(`<message from="${PEER}/phone" type="chat"><composing ${CS}/></message>`))).toBe(true);
    expect(states.stanza(parse(`<message from="${PEER}/phone" type="chat" id="m9"><body>hi</body><active ${CS}/></message>`))).toBe(false);
    expect(events.filter((e) => e.event === 'chatState.changed').map((e) => e.payload)).toEqual([
      { conversationId: stored({ originId: 'peer-1' }).conversationId, accountId: ACCOUNT, peer: PEER, state: 'composing' },
      { conversationId: stored({ originId: 'peer-1' }).conversationId, accountId: ACCOUNT, peer: PEER, state: 'active' },
    ]);
  });

  it('applies relations from the archive catch-up once, however often the page comes', async () => {
    const archived = (n: number, inner: string) =>
      parse(`<message to="${ME}/desk"><result xmlns="urn:xmpp:mam:2" queryid="q1" id="arch-r${n}"><forwarded xmlns="urn:xmpp:forward:0">
        <delay xmlns="urn:xmpp:delay" stamp="${new Date(T0 + 3_600_000 + n * 1000).toISOString()}"/>${inner}</forwarded></result></message>`);
    const page = [
      archived(1, `<message from="${PEER}/phone" to="${ME}" type="chat" id="k1"><body>message 1, fixed</body><replace xmlns="urn:xmpp:message-correct:0" id="peer-1"/></message>`),
      archived(2, `<message from="${ME}/phone" to="${PEER}" type="chat" id="k2">${reactions('peer-1', '🙏')}</message>`),
      archived(3, `<message from="${PEER}/phone" to="${ME}" type="chat" id="k3"><retract xmlns="urn:xmpp:message-retract:1" id="mine-2"/><body>${RETRACTION_FALLBACK}</body></message>`),
    ];
    fixture.archive.sync.setMamState(ACCOUNT, ME, { lastStanzaId: 'arch-0', lastTs: T0, complete: true });
    const deps = {
      archive: fixture.archive,
      accountId: ACCOUNT,
      ownBareJid: ME,
      collector: { page: async () => ({ stanzas: page, queryIds: new Set(['q1']), fin: { complete: true } }) },
      now: () => NOW,
      log: () => {},
      heldFromOffline: () => new Set<string>(),
    };
    const first = await catchUp(deps, session);
    expect(first.updated.map((m) => [m.id, m.body, m.reactions])).toEqual([
      [ids.get('peer-1'), 'message 1, fixed', undefined],
      [ids.get('peer-1'), 'message 1, fixed', [{ emoji: '🙏', from: [ME] }]],
    ]);
    expect(first.stored.filter((s) => s.created)).toEqual([]);
    // The peer cannot retract my message, from the archive either.
    expect(stored({ originId: 'mine-2' })).toMatchObject({ body: 'reply 2' });
    const again = await catchUp(deps, session);
    expect(again.updated).toEqual([]);
  });
});
