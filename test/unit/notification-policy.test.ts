// The notification policy (pure) and Attention, which feeds it from the core's events.
import { describe, expect, it } from 'vitest';
import { mentionsNick, type AccountView, type ConversationView, type MessageView } from '../../preload/contract';
import {
  badgeCount,
  catchUpSummary,
  decide,
  DEFAULT_NOTIFICATION_PREFS,
  THROTTLE_MS,
  type Decision,
  type Notice,
  type NotificationPrefs,
  type Situation,
  type Throttle,
} from '../../main/core/attention/policy';
import { Attention, type NotificationSink } from '../../main/core/attention/attention';

const message = { conversationId: 7, accountId: 'a1', sender: 'Bob', body: 'Lunch at noon?' };
const calm: Situation = {
  windowFocused: false,
  viewing: null,
  muted: false,
  request: false,
  dnd: false,
  catchingUp: false,
  prefs: DEFAULT_NOTIFICATION_PREFS,
  now: 1_000_000,
};

const decideIn = (situation: Partial<Situation>, throttle: Throttle = new Map()) => decide(message, { ...calm, ...situation }, throttle);

describe('decide', () => {
  it('notifies with sender and text, grouped by conversation', () => {
    expect(decideIn({})).toEqual({
      kind: 'notify',
      notice: { title: 'Bob', body: 'Lunch at noon?', group: 'conversation-7', silent: false, conversationId: 7, accountId: 'a1' },
    });
  });

  it('stays quiet for the conversation in view of a focused window, not for another one or an unfocused window', () => {
    expect(decideIn({ windowFocused: true, viewing: 7 })).toEqual({ kind: 'none', reason: 'in-view' });
    expect(decideIn({ windowFocused: true, viewing: 8 }).kind).toBe('notify');
    expect(decideIn({ windowFocused: false, viewing: 7 }).kind).toBe('notify');
  });

  it('never for message requests, muted conversations, do-not-disturb, or with notifications off', () => {
    expect(decideIn({ request: true })).toEqual({ kind: 'none', reason: 'request' });
    expect(decideIn({ muted: true })).toEqual({ kind: 'none', reason: 'muted' });
    expect(decideIn({ dnd: true })).toEqual({ kind: 'none', reason: 'dnd' });
    expect(decideIn({ prefs: { ...DEFAULT_NOTIFICATION_PREFS, enabled: false } })).toEqual({ kind: 'none', reason: 'disabled' });
    expect(decideIn({ catchingUp: true })).toEqual({ kind: 'none', reason: 'catch-up' });
  });

  it('privacy levels: sender and text, sender only, nothing; sound off makes it silent', () => {
    const words = (privacy: 'sender-and-text' | 'sender' | 'nothing') => {
      const d = decideIn({ prefs: { enabled: true, privacy, sound: false } });
      return d.kind === 'notify' ? [d.notice.title, d.notice.body, d.notice.silent] : d;
    };
    expect(words('sender-and-text')).toEqual(['Bob', 'Lunch at noon?', true]);
    expect(words('sender')).toEqual(['Bob', 'New message', true]);
    expect(words('nothing')).toEqual(['Heron', 'New message', true]);
  });

  it('throttles per conversation and counts what it held back into the next notice', () => {
    const throttle: Throttle = new Map();
    expect(decideIn({}, throttle).kind).toBe('notify');
    expect(decideIn({ now: calm.now + 1_000 }, throttle)).toEqual({ kind: 'none', reason: 'throttled' });
    expect(decideIn({ now: calm.now + 2_000 }, throttle)).toEqual({ kind: 'none', reason: 'throttled' });
    // Another conversation is not held back by this one.
    expect(decide({ ...message, conversationId: 8 }, { ...calm, now: calm.now + 2_000 }, throttle).kind).toBe('notify');
    const next = decideIn({ now: calm.now + THROTTLE_MS }, throttle);
    expect(next.kind === 'notify' && next.notice.body).toBe('3 new messages: Lunch at noon?');
  });

  it('long or multi-line text is cut to one short line', () => {
    const d = decide({ ...message, body: `line one\n\n${'x'.repeat(500)}` }, calm, new Map());
    expect(d.kind === 'notify' && d.notice.body.length).toBe(200);
    expect(d.kind === 'notify' && d.notice.body.startsWith('line one x')).toBe(true);
  });
});

describe('catchUpSummary and badgeCount', () => {
  const caught = (conversationId: number, count: number) => ({ conversationId, accountId: 'a1', sender: `Peer ${conversationId}`, count, latest: 'hi' });

  it('one summary for several chats; one chat gets its own notice; nothing when all was read', () => {
    expect(catchUpSummary([caught(1, 2), caught(2, 1), caught(3, 2)], DEFAULT_NOTIFICATION_PREFS)).toEqual({
      title: 'Heron',
      body: '5 new messages in 3 chats',
      group: 'catch-up',
      silent: false,
    });
    expect(catchUpSummary([caught(1, 2), caught(2, 0)], DEFAULT_NOTIFICATION_PREFS)).toMatchObject({ title: 'Peer 1', body: '2 new messages: hi', conversationId: 1 });
    expect(catchUpSummary([caught(1, 0)], DEFAULT_NOTIFICATION_PREFS)).toBeNull();
    expect(catchUpSummary([caught(1, 3)], { ...DEFAULT_NOTIFICATION_PREFS, enabled: false })).toBeNull();
  });

  it('the badge counts unread chats in the list only', () => {
    expect(badgeCount([{ unread: 2, muted: false, request: false }, { unread: 5, muted: true, request: false }, { unread: 4, muted: false, request: true }, { unread: 1, muted: false, request: false }])).toBe(3);
  });
});

describe('Attention', () => {
  const account = (syncing: boolean, show: AccountView['presence']['show'] = 'available'): AccountView => ({
    id: 'a1',
    jid: 'alice@example.org',
    enabled: true,
    connection: { state: 'online', attempt: 0, ...(syncing ? { syncing } : {}) },
    presence: { show },
  });
  const conversation = (id: number, unread: number, extra: Partial<ConversationView> = {}): ConversationView => ({ id, accountId: 'a1', peer: `peer${id}@example.org`, kind: 'chat', unread, pinned: false, muted: false, draft: '', ...extra });
  let nextId = 1;
  const incoming = (conversationId: number, body = 'hello'): MessageView => ({
    id: nextId++,
    conversationId,
    accountId: 'a1',
    direction: 'in',
    from: `peer${conversationId}@example.org`,
    body,
    ts: 0,
    state: 'received',
  });

  function setup(options: { conversations?: ConversationView[]; focused?: boolean } = {}) {
    const shown: Notice[] = [];
    const dismissed: string[] = [];
    const badges: number[] = [];
    const decisions: Decision[] = [];
    const sink: NotificationSink = {
      show: (n) => shown.push(n),
      dismiss: (g) => dismissed.push(g),
      badge: (n) => badges.push(n),
      decided: (d) => decisions.push(d),
    };
    let now = 1_000_000;
    const archive = new Map((options.conversations ?? []).map((c) => [c.id, c]));
    let prefs = DEFAULT_NOTIFICATION_PREFS;
    const attention = new Attention({
      sink,
      prefs: () => prefs,
      windowFocused: () => options.focused ?? true,
      conversations: [...archive.values()],
      accounts: [account(false)],
      conversation: (id) => archive.get(id),
      senderName: (_a, jid) => (jid === 'peer1@example.org' ? 'Bob' : jid),
      ownNick: (_a, room) => (room === 'lounge@conference.example.org' ? 'Alice' : undefined),
      now: () => now,
      active: () => true,
    });
    const setPrefs = (changed: Partial<NotificationPrefs>) => (prefs = { ...prefs, ...changed });
    return { attention, shown, dismissed, badges, decisions, archive, setPrefs, tick: (ms: number) => (now += ms) };
  }

  it('follows the settings as they change: off shows nothing, sender only hides the text', () => {
    const t = setup({ conversations: [conversation(1, 1), conversation(2, 1)] });
    t.setPrefs({ enabled: false });
    t.attention.hear('message.added', incoming(1, 'secret'));
    t.setPrefs({ enabled: true, privacy: 'sender' });
    t.attention.hear('message.added', incoming(2, 'secret'));
    expect(t.decisions[0]).toEqual({ kind: 'none', reason: 'disabled' });
    expect(t.shown).toHaveLength(1);
    expect(t.shown[0]!.body).not.toContain('secret');
  });

  it('notifies a message unless its chat is in view of the focused window, by the contact’s name', () => {
    const t = setup({ conversations: [conversation(1, 1), conversation(2, 1)] });
    t.attention.setViewing(2);
    t.attention.hear('message.added', incoming(2));
    t.attention.hear('message.added', incoming(1, 'Are you there?'));
    expect(t.decisions.map((d) => (d.kind === 'none' ? d.reason : 'notify'))).toEqual(['in-view', 'notify']);
    expect(t.shown).toEqual([expect.objectContaining({ title: 'Bob', body: 'Are you there?', conversationId: 1 })]);
  });

  it('a new conversation is looked up in the archive; a stranger’s (a request) stays quiet', () => {
    const t = setup();
    t.archive.set(5, conversation(5, 1, { request: 'waiting' }));
    t.archive.set(6, conversation(6, 1));
    t.attention.hear('message.added', incoming(5));
    t.attention.hear('message.added', incoming(6));
    expect(t.decisions.map((d) => (d.kind === 'none' ? d.reason : 'notify'))).toEqual(['request', 'notify']);
  });

  it('own presence do-not-disturb silences; outgoing messages, gap notices and retractions are never news', () => {
    const t = setup({ conversations: [conversation(1, 1)] });
    t.attention.hear('message.added', { ...incoming(1), direction: 'out' });
    t.attention.hear('message.added', { ...incoming(1), gap: { from: 0, to: 1 } });
    t.attention.hear('account.changed', account(false, 'dnd'));
    t.attention.hear('message.added', incoming(1));
    expect(t.decisions).toEqual([{ kind: 'none', reason: 'dnd' }]);
  });

  it('a catch-up gives one summary at its end, counting only what is still unread', () => {
    const t = setup({ conversations: [conversation(1, 0), conversation(2, 0), conversation(3, 0)] });
    t.attention.hear('account.changed', account(true));
    for (const id of [1, 1, 2, 3, 3, 3]) t.attention.hear('message.added', incoming(id));
    expect(t.shown).toEqual([]);
    t.attention.hear('conversation.changed', conversation(1, 2));
    t.attention.hear('conversation.changed', conversation(2, 1));
    // Conversation 3 was read on another device meanwhile.
    t.attention.hear('conversation.changed', conversation(3, 0));
    t.attention.hear('account.changed', account(false));
    expect(t.shown).toEqual([{ title: 'Heron', body: '3 new messages in 2 chats', group: 'catch-up', silent: false }]);
    // Live again: messages notify one by one.
    t.attention.hear('message.added', incoming(2));
    expect(t.shown).toHaveLength(2);
  });

  it('the badge follows the unread of unmuted chats; reading a chat dismisses its notice and resets its throttle', () => {
    const t = setup({ conversations: [conversation(1, 2), conversation(2, 3, { request: 'waiting' })] });
    expect(t.badges).toEqual([2]);
    t.attention.hear('conversation.changed', { ...conversation(1, 5), muted: true } as ConversationView);
    t.attention.hear('conversation.changed', conversation(1, 4));
    t.attention.hear('message.added', incoming(1));
    t.attention.hear('message.added', incoming(1));
    expect(t.decisions.map((d) => (d.kind === 'none' ? d.reason : 'notify'))).toEqual(['notify', 'throttled']);
    t.attention.hear('conversation.changed', conversation(1, 0));
    expect(t.badges).toEqual([2, 0, 4, 0]);
    expect(t.dismissed).toEqual(['conversation-1']);
    t.attention.hear('message.added', incoming(1));
    expect(t.shown).toHaveLength(2);
  });

  it('in a room, notifies only a message that names my nick, titled by who wrote it', () => {
    const room = conversation(5, 1, { kind: 'groupchat', peer: 'lounge@conference.example.org' });
    const t = setup({ conversations: [room], focused: false });
    const said = (body: string): MessageView => ({ ...incoming(5, body), from: 'lounge@conference.example.org/bob' });
    t.attention.hear('message.added', said('Who brings the rope?'));
    t.attention.hear('message.added', said('Ask Alicea, not me'));
    expect(t.decisions).toEqual([
      { kind: 'none', reason: 'not-mentioned' },
      { kind: 'none', reason: 'not-mentioned' },
    ]);
    t.attention.hear('message.added', said('alice: you bring it'));
    expect(t.shown).toEqual([expect.objectContaining({ title: 'bob (lounge@conference.example.org)', body: 'alice: you bring it', conversationId: 5 })]);
  });
});

describe('rooms in the policy', () => {
  it('notify all, mentions or none', () => {
    expect(decideIn({ room: { notify: 'mentions', mention: false } })).toEqual({ kind: 'none', reason: 'not-mentioned' });
    expect(decideIn({ room: { notify: 'mentions', mention: true } }).kind).toBe('notify');
    expect(decideIn({ room: { notify: 'all', mention: false } }).kind).toBe('notify');
    expect(decideIn({ room: { notify: 'none', mention: true } })).toEqual({ kind: 'none', reason: 'not-mentioned' });
  });
  it('a mention in a muted room or while do-not-disturb stays quiet', () => {
    expect(decideIn({ muted: true, room: { notify: 'mentions', mention: true } })).toEqual({ kind: 'none', reason: 'muted' });
    expect(decideIn({ dnd: true, room: { notify: 'mentions', mention: true } })).toEqual({ kind: 'none', reason: 'dnd' });
  });
});

describe('mentionsNick', () => {
  it('finds the whole nick, whatever its case, beside punctuation', () => {
    for (const body of ['bob', 'Bob, hi', 'hi BOB!', '@bob: rope?', 'thanks (bob)', 'bob\nnext line']) expect(mentionsNick(body, 'bob')).toBe(true);
  });
  it('not inside a longer word, in another script either, nor for a blank nick', () => {
    for (const body of ['bobby', 'kebob', 'bob_2', 'bob2', 'bobé']) expect(mentionsNick(body, 'bob')).toBe(false);
    expect(mentionsNick('anything', '  ')).toBe(false);
  });
  it('nicks with spaces and symbols match as they are', () => {
    expect(mentionsNick('ping Dr. Who, please', 'Dr. Who')).toBe(true);
    expect(mentionsNick('Ünïcode-Nick said', 'ünïcode-nick')).toBe(true);
    expect(mentionsNick('a bob then bobby', 'bob')).toBe(true);
  });
});
