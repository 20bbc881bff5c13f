// Pure presentation helpers: times, days, presence and connection labels, JID input.
import type { AccountConnection, PresenceShow } from '../../../preload/contract';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const shortDateYearFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const dayYearFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const DAY_MS = 86_400_000;

/** Local wall-clock time as HH:MM (24-hour). */
export function formatTime(ts: number): string {
  return timeFormat.format(ts);
}

export function formatFull(ts: number): string {
  return fullFormat.format(ts);
}

/** "25 Nov 2026, 21:16": a date that matters with its time, e.g. when a certificate expires. */
export function formatDateTime(ts: number): string {
  return dateTimeFormat.format(ts);
}

/** "25 Nov 2026, 22:18": a date with the time in the 24-hour form the messages show. */
export function formatDateAndTime(ts: number): string {
  return `${shortDateYearFormat.format(ts)}, ${formatTime(ts)}`;
}

/** A key that is equal for two timestamps on the same local calendar day. */
export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

function startOfDay(ts: number): number {
  const d = new Date(ts);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Days between the local calendar days of `ts` and `now` (0 = same day, 1 = yesterday). */
function daysAgo(ts: number, now: number): number {
  return Math.round((startOfDay(now) - startOfDay(ts)) / DAY_MS);
}

/** Label of a day separator in a chat: "Today", "Yesterday", or the date. */
export function formatDay(ts: number, now = Date.now()): string {
  const ago = daysAgo(ts, now);
  if (ago === 0) return 'Today';
  if (ago === 1) return 'Yesterday';
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? dayFormat : dayYearFormat).format(ts);
}

/** Compact time for a conversation list row. */
export function formatListTime(ts: number, now = Date.now()): string {
  const ago = daysAgo(ts, now);
  if (ago <= 0) return formatTime(ts);
  if (ago === 1) return 'Yesterday';
  if (ago < 7) return weekdayFormat.format(ts);
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? shortDateFormat : shortDateYearFormat).format(ts);
}

/** "12s", "3m 05s", "1h 02m". */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  if (total < 60) return `${total}s`;
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

export const presenceLabels: Record<PresenceShow, string> = {
  available: 'Available',
  chat: 'Free to chat',
  away: 'Away',
  xa: 'Not available',
  dnd: 'Do not disturb',
  offline: 'Offline',
};

/** How long a contact's device has been idle (XEP-0319): "idle 5 min", "idle 3 h", "idle since 2 Mar". */
export function formatIdle(since: number, now = Date.now()): string {
  const minutes = Math.floor((now - since) / 60_000);
  if (minutes < 1) return 'idle';
  if (minutes < 60) return `idle ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `idle ${hours} h`;
  const sameYear = new Date(since).getFullYear() === new Date(now).getFullYear();
  return `idle since ${(sameYear ? shortDateFormat : shortDateYearFormat).format(since)}`;
}

/** "Do not disturb — In a meeting". */
export function describePresence(presence: { show: PresenceShow; status?: string }): string {
  const status = presence.status?.trim();
  return status ? `${presenceLabels[presence.show]} — ${status}` : presenceLabels[presence.show];
}

/** "Friends, Work" as typed → ["Friends", "Work"]: trimmed, empty and repeated names dropped. */
export function parseGroups(text: string): string[] {
  return [...new Set(text.split(',').map((g) => g.trim()).filter(Boolean))];
}

/** Sort weight: who is reachable first. */
export const presenceRank: Record<PresenceShow, number> = {
  chat: 0,
  available: 0,
  away: 1,
  dnd: 2,
  xa: 3,
  offline: 4,
};

export type ConnectionSummary = {
  /** Short state text, e.g. "Online", "Retrying in 12s". */
  label: string;
  /** Why, when there is something to say. */
  detail?: string;
  /** Whether this state needs the user's attention. */
  problem: boolean;
};

export function describeConnection(conn: AccountConnection, now: number): ConnectionSummary {
  const reason = conn.reason?.trim() || undefined;
  switch (conn.state) {
    case 'online':
      return { label: 'Online', problem: false };
    case 'connecting':
      return { label: conn.attempt > 0 ? `Connecting (attempt ${conn.attempt + 1})…` : 'Connecting…', problem: false };
    case 'offline':
      return { label: 'Offline', detail: reason, problem: false };
    case 'disabled':
      return { label: 'Disabled', detail: reason, problem: false };
    case 'waiting': {
      // Without retryAt nothing is scheduled: it waits for the network to come back.
      const label =
        conn.retryAt === undefined
          ? 'Waiting for the network'
          : conn.retryAt > now
            ? `Retrying in ${formatCountdown(conn.retryAt - now)}`
            : 'Retrying…';
      return { label, detail: reason, problem: true };
    }
    case 'auth-failed':
      return {
        label: 'Sign-in failed',
        detail: reason ?? 'The server did not accept the address or password.',
        problem: true,
      };
    case 'cert-rejected':
      return { label: 'Certificate not trusted', detail: reason, problem: true };
    case 'error':
      return { label: 'Error', detail: reason ?? 'The connection failed.', problem: true };
  }
}

const BARE_JID = /^[^@/\s"&'<>:]+@[^@/\s]+$/;

/**
 * What the user typed or pasted as an address, reduced to a bare JID candidate:
 * trims, accepts an `xmpp:` URI (dropping its query) and drops a resource.
 */
export function normalizeJidInput(input: string): string {
  let s = input.trim();
  if (/^xmpp:/i.test(s)) {
    s = s.slice(5).replace(/^\/\/[^/]*\//, '');
    const q = s.indexOf('?');
    if (q >= 0) s = s.slice(0, q);
    try {
      s = decodeURIComponent(s);
    } catch {
      // keep it as typed; validation below reports it
    }
  }
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  return s.toLowerCase();
}

export function isBareJid(s: string): boolean {
  return BARE_JID.test(s);
}

export const JID_HINT = 'Enter an address like name@example.org';

export const PORT_HINT = 'The port must be a number from 1 to 65535.';

/** A port as typed: undefined when left empty, null when it is not a port number. */
export function parsePort(text: string): number | null | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const n = Number(t);
  return /^\d+$/.test(t) && n >= 1 && n <= 65535 ? n : null;
}

const HUES = 8;

/** A stable colour class for an avatar, derived from the address. */
export function hueClass(key: string): string {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return `hue-${h % HUES}`;
}

/** The first letter of a name or address, for an avatar. */
export function initial(name: string): string {
  const first = [...name.trim()][0];
  return first ? first.toUpperCase() : '?';
}
