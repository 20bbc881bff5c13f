// Whether an incoming message deserves a notification, and what it says. Pure: the situation
// (focus, what is in view, mute, requests, do-not-disturb, catch-up, preferences, the clock)
// comes in, a decision goes out, and the per-conversation throttle is the only state.

export type NotificationPrivacy = 'sender-and-text' | 'sender' | 'nothing';
export type NotificationPrefs = { enabled: boolean; privacy: NotificationPrivacy; sound: boolean };
export const DEFAULT_NOTIFICATION_PREFS: NotificationPrefs = { enabled: true, privacy: 'sender-and-text', sound: true };

/** One notification per conversation at most this often; what comes between is counted into the next. */
export const THROTTLE_MS = 20_000;
const MAX_BODY = 200;

export type IncomingMessage = { conversationId: number; accountId: string; sender: string; body: string };

export type Situation = {
  windowFocused: boolean;
  /** The conversation the window shows, if any. */
  viewing: number | null;
  muted: boolean;
  /** From someone not in the roster (a message request): never notified. */
  request: boolean;
  /** The account's own presence is do-not-disturb. */
  dnd: boolean;
  /** The account is catching up after a (re)connect: counted into one summary instead. */
  catchingUp: boolean;
  /** A room message: what the room's notify setting asks for (rooms notify on mentions by default). Absent outside rooms. */
  room?: { notify: RoomNotify; mention: boolean };
  prefs: NotificationPrefs;
  now: number;
};

/** Per conversation: when it last notified and how many messages since went unannounced. */
export type Throttle = Map<number, { lastAt: number; held: number }>;

export type Notice = {
  title: string;
  body: string;
  /** Notices of one group replace each other: one per conversation, one for the summary. */
  group: string;
  silent: boolean;
  /** The conversation a click opens; absent for a summary over several. */
  conversationId?: number;
  accountId?: string;
};

export type RoomNotify = 'all' | 'mentions' | 'none';
export const DEFAULT_ROOM_NOTIFY: RoomNotify = 'mentions';

export type SilenceReason = 'disabled' | 'in-view' | 'muted' | 'request' | 'dnd' | 'catch-up' | 'throttled' | 'not-mentioned';
export type Decision = { kind: 'notify'; notice: Notice } | { kind: 'none'; reason: SilenceReason };

export const conversationGroup = (conversationId: number) => `conversation-${conversationId}`;
export const SUMMARY_GROUP = 'catch-up';

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_BODY ? `${line.slice(0, MAX_BODY - 1)}…` : line;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The words of a notice for `count` messages from `sender`, at the user's privacy level. */
function words(prefs: NotificationPrefs, sender: string, count: number, latest: string): { title: string; body: string } {
  if (prefs.privacy === 'nothing') return { title: 'Heron', body: count === 1 ? 'New message' : plural(count, 'new message', 'new messages') };
  if (prefs.privacy === 'sender' || !latest.trim()) return { title: sender, body: count === 1 ? 'New message' : plural(count, 'new message', 'new messages') };
  return { title: sender, body: count === 1 ? clip(latest) : `${plural(count, 'new message', 'new messages')}: ${clip(latest)}` };
}

/** Decides for one incoming message; updates `throttle` when it notifies or holds one back. */
export function decide(message: IncomingMessage, situation: Situation, throttle: Throttle): Decision {
  const none = (reason: SilenceReason): Decision => ({ kind: 'none', reason });
  if (situation.request) return none('request');
  if (situation.muted) return none('muted');
  if (!situation.prefs.enabled) return none('disabled');
  // A busy room would notify all day: by default only a message that names us does.
  const room = situation.room;
  if (room && (room.notify === 'none' || (room.notify === 'mentions' && !room.mention))) return none('not-mentioned');
  if (situation.windowFocused && situation.viewing === message.conversationId) return none('in-view');
  if (situation.dnd) return none('dnd');
  if (situation.catchingUp) return none('catch-up');
  const previous = throttle.get(message.conversationId);
  if (previous && situation.now - previous.lastAt < THROTTLE_MS) {
    previous.held += 1;
    return none('throttled');
  }
  const count = 1 + (previous?.held ?? 0);
  throttle.set(message.conversationId, { lastAt: situation.now, held: 0 });
  return {
    kind: 'notify',
    notice: {
      ...words(situation.prefs, message.sender, count, message.body),
      group: conversationGroup(message.conversationId),
      silent: !situation.prefs.sound,
      conversationId: message.conversationId,
      accountId: message.accountId,
    },
  };
}

/** What a catch-up brought, per conversation: still unread at its end, and the latest text. */
export type CaughtUp = { conversationId: number; accountId: string; sender: string; count: number; latest: string };

/** One notice for everything a catch-up brought, or null when nothing is worth one. */
export function catchUpSummary(caught: readonly CaughtUp[], prefs: NotificationPrefs): Notice | null {
  const worth = caught.filter((c) => c.count > 0);
  if (!prefs.enabled || worth.length === 0) return null;
  if (worth.length === 1) {
    const [only] = worth as [CaughtUp];
    return { ...words(prefs, only.sender, only.count, only.latest), group: conversationGroup(only.conversationId), silent: !prefs.sound, conversationId: only.conversationId, accountId: only.accountId };
  }
  const messages = worth.reduce((n, c) => n + c.count, 0);
  return {
    title: 'Heron',
    body: `${plural(messages, 'new message', 'new messages')} in ${plural(worth.length, 'chat', 'chats')}`,
    group: SUMMARY_GROUP,
    silent: !prefs.sound,
  };
}

/** The launcher/dock badge: unread messages in the chat list, muted chats and requests left out. */
export function badgeCount(conversations: Iterable<{ unread: number; muted: boolean; request: boolean }>): number {
  let total = 0;
  for (const c of conversations) if (!c.muted && !c.request) total += c.unread;
  return total;
}
