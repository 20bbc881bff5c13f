// Pure presentation helpers: times, days, presence and connection labels, JID input. The
// words come from the catalogue (lib/i18n); dates and times from Intl.
import type { AccountConnection, PresenceShow } from '../../../preload/contract';
import { t } from './i18n';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const shortDateYearFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const dayYearFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const DAY_MS = 86_400_000;

// One collator for every sort of names: `localeCompare` with options builds a new one per
// comparison, which made sorting a room of 5,000 a long task of most of a second.
const nameCollator = new Intl.Collator(undefined, { sensitivity: 'base' });

/** Orders names as people expect, case and accents aside. */
export const compareNames = (a: string, b: string): number => nameCollator.compare(a, b);

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
  return t('format.dateAndTime', { date: shortDateYearFormat.format(ts), time: formatTime(ts) });
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
  if (ago === 0) return t('format.today');
  if (ago === 1) return t('format.yesterday');
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? dayFormat : dayYearFormat).format(ts);
}

/** Compact time for a conversation list row. */
export function formatListTime(ts: number, now = Date.now()): string {
  const ago = daysAgo(ts, now);
  if (ago <= 0) return formatTime(ts);
  if (ago === 1) return t('format.yesterday');
  if (ago < 7) return weekdayFormat.format(ts);
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? shortDateFormat : shortDateYearFormat).format(ts);
}

/** "12s", "3m 05s", "1h 02m". */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  if (total < 60) return t('format.seconds', { s: total });
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  if (h > 0) return t('format.hoursMinutes', { h, m: String(m).padStart(2, '0') });
  return t('format.minutesSeconds', { m, s: String(s).padStart(2, '0') });
}

export const presenceLabels: Record<PresenceShow, string> = {
  available: t('presence.available'),
  chat: t('presence.chat'),
  away: t('presence.away'),
  xa: t('presence.xa'),
  dnd: t('presence.dnd'),
  offline: t('presence.offline'),
};

/** How long a contact's device has been idle (XEP-0319): "idle 5 min", "idle 3 h", "idle since 2 Mar". */
export function formatIdle(since: number, now = Date.now()): string {
  const minutes = Math.floor((now - since) / 60_000);
  if (minutes < 1) return t('format.idle');
  if (minutes < 60) return t('format.idleMinutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t('format.idleHours', { n: hours });
  const sameYear = new Date(since).getFullYear() === new Date(now).getFullYear();
  return t('format.idleSince', { date: (sameYear ? shortDateFormat : shortDateYearFormat).format(since) });
}

/** "Do not disturb — In a meeting". */
export function describePresence(presence: { show: PresenceShow; status?: string }): string {
  const status = presence.status?.trim();
  return status ? t('format.presenceWithStatus', { presence: presenceLabels[presence.show], status }) : presenceLabels[presence.show];
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
      return { label: t('connection.online'), problem: false };
    case 'connecting':
      return { label: conn.attempt > 0 ? t('connection.connectingAttempt', { attempt: conn.attempt + 1 }) : t('connection.connecting'), problem: false };
    case 'offline':
      return { label: t('connection.offline'), detail: reason, problem: false };
    case 'disabled':
      return { label: t('connection.disabled'), detail: reason, problem: false };
    case 'waiting': {
      // Without retryAt nothing is scheduled: it waits for the network to come back.
      const label =
        conn.retryAt === undefined
          ? t('connection.waitingForNetwork')
          : conn.retryAt > now
            ? t('connection.retryingIn', { countdown: formatCountdown(conn.retryAt - now) })
            : t('connection.retrying');
      return { label, detail: reason, problem: true };
    }
    case 'auth-failed':
      return {
        label: t('connection.authFailed'),
        detail: reason ?? t('connection.authFailedDetail'),
        problem: true,
      };
    case 'cert-rejected':
      return { label: t('connection.certRejected'), detail: reason, problem: true };
    case 'error':
      return { label: t('connection.error'), detail: reason ?? t('connection.errorDetail'), problem: true };
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

export const JID_HINT = t('format.jidHint');

export const PORT_HINT = t('format.portHint');

/** A port as typed: undefined when left empty, null when it is not a port number. */
export function parsePort(text: string): number | null | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const n = Number(t);
  return /^\d+$/.test(t) && n >= 1 && n <= 65535 ? n : null;
}

/** The first letter of a name or address, for an avatar. */
export function initial(name: string): string {
  const first = [...name.trim()][0];
  return first ? first.toUpperCase() : '?';
}
