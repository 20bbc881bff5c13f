// xmpp: links (RFC 5122) with the XEP-0147 actions, parsed into what they ask. Pure and total:
// anything that is not a well-formed link to a plausible address comes back refused with a
// reason the user can read. A link comes from anywhere (a web page, a mail), so it is judged
// as hostile: nothing here does anything, the window asks the user first (RFC 5122 §5.1).
import { domainToASCII, domainToUnicode } from 'node:url';
import { jidPartsProblem, parseJid, type ParsedJid } from './jid';

export const MAX_URI_LENGTH = 8192;
const MAX_PAIRS = 32;
export const MAX_LINK_BODY = 20_000; // as messages.send
const MAX_LINK_TEXT = 1023;
const MAX_LINK_PASSWORD = 1024;

export type XmppUriAction =
  | { kind: 'open' }
  | { kind: 'message'; body?: string; subject?: string }
  | { kind: 'roster'; name?: string; group?: string }
  | { kind: 'subscribe' }
  | { kind: 'join'; password?: string }
  | { kind: 'invite'; invitee: string; password?: string }
  | { kind: 'register' };

/** A device's identity key as a link vouches for it (Conversations' `omemo-sid-<device>=<hex>`). */
export type OmemoFingerprint = { device: number; fingerprint: string };

export type XmppUri = {
  /** The account the link says to act from (`xmpp://me@example.org/…`), a bare JID. */
  account?: string;
  target: ParsedJid;
  action: XmppUriAction;
  omemo: OmemoFingerprint[];
  /** A query type Heron does not know; the link then just opens the chat (RFC 5122 §2.5). */
  ignoredAction?: string;
};

export type XmppUriParse = { ok: true; uri: XmppUri } | { ok: false; reason: string };

const refuse = (reason: string): XmppUriParse => ({ ok: false, reason });

// Raw characters no URI or IRI holds: whitespace, controls, bidi controls and the excluded ASCII.
const RAW_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Z}"<>\\^`{|}]/u;
const QUERY_TYPE = /^[A-Za-z0-9._~-]+$/;
const OMEMO_KEY = /^omemo-sid-(\d+)$/;
const ASCII_DOMAIN = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
const OMEMO_FINGERPRINT = /^(?:05)?[0-9a-f]{64}$/i;
// Keys each action reads; any other key is ignored (XEP-0147 leaves room for more).
const ACTION_KEYS: Record<string, readonly string[]> = {
  message: ['body', 'subject'],
  roster: ['name', 'group'],
  join: ['password'],
  invite: ['jid', 'password'],
};

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text).normalize('NFC');
  } catch {
    return null;
  }
}

/** A domain as a JID holds it: Unicode (IDNA ToUnicode of an `xn--` label), lower case. */
function unicodeDomain(decoded: string): string | null {
  if (/^\[[0-9a-f:.]+\]$/i.test(decoded)) return decoded.toLowerCase();
  // domainToASCII reads its input as a URL host: "a.example/evil" would come back "a.example".
  if (/[\x00-\x2c/:-@[-^`{-\x7f]/.test(decoded)) return null;
  const ascii = domainToASCII(decoded);
  if (!ASCII_DOMAIN.test(ascii) || ascii.split('.').some((label) => label.length > 63 || label.startsWith('-') || label.endsWith('-'))) return null;
  return domainToUnicode(ascii).toLowerCase() || null;
}

/** node@host/resource as it appears in a link (still percent-encoded) → a checked JID. */
function linkJid(raw: string, what: string): ParsedJid | string {
  const slash = raw.indexOf('/');
  const bareRaw = slash === -1 ? raw : raw.slice(0, slash);
  const resourceRaw = slash === -1 ? '' : raw.slice(slash + 1);
  const at = bareRaw.indexOf('@');
  const localRaw = at === -1 ? '' : bareRaw.slice(0, at);
  const hostRaw = at === -1 ? bareRaw : bareRaw.slice(at + 1);
  if (at !== -1 && !localRaw) return `The ${what} has an empty name before “@”.`;
  if (slash !== -1 && !resourceRaw) return `The ${what} ends in “/” with nothing after it.`;
  const local = decode(localRaw);
  const host = decode(hostRaw);
  const resource = decode(resourceRaw);
  if (local === null || host === null || resource === null) return `The ${what} is badly percent-encoded.`;
  if (!host) return `The ${what} has no server.`;
  const domain = unicodeDomain(host);
  if (domain === null) return `The ${what}’s server “${host}” is not a valid domain name.`;
  const problem = jidPartsProblem({ local, domain, resource });
  if (problem) return problem.replace('The address', `The ${what}`);
  const jid = parseJid(`${local ? `${local}@` : ''}${domain}${resource ? `/${resource}` : ''}`);
  return jid ?? `The ${what} is not a valid address.`;
}

export function parseXmppUri(input: unknown): XmppUriParse {
  if (typeof input !== 'string') return refuse('The link is not text.');
  const text = input.trim();
  if (text.length > MAX_URI_LENGTH) return refuse('The link is too long.');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  if (!scheme || scheme[1]!.toLowerCase() !== 'xmpp') return refuse('Only xmpp: links open in Heron.');
  if (RAW_FORBIDDEN.test(text)) return refuse('The link contains spaces, control or invisible characters.');

  // The fragment means nothing to XMPP (RFC 5122 §2.4): drop it.
  const withoutFragment = text.slice(scheme[0].length).split('#', 1)[0]!;
  const questionMark = withoutFragment.indexOf('?');
  const hier = questionMark === -1 ? withoutFragment : withoutFragment.slice(0, questionMark);
  const query = questionMark === -1 ? undefined : withoutFragment.slice(questionMark + 1);

  let account: string | undefined;
  let pathRaw = hier;
  if (hier.startsWith('//')) {
    const slash = hier.indexOf('/', 2);
    const authority = slash === -1 ? hier.slice(2) : hier.slice(2, slash);
    if (slash === -1 || slash === hier.length - 1) return refuse('The link names an account but no address to open.');
    const parsed = linkJid(authority, 'account in the link');
    if (typeof parsed === 'string') return refuse(parsed);
    if (!parsed.local || parsed.resource) return refuse('The account in the link must be an address like me@example.org.');
    account = parsed.bare;
    pathRaw = hier.slice(slash + 1);
  }
  if (!pathRaw) return refuse('The link has no address.');
  const target = linkJid(pathRaw, 'address');
  if (typeof target === 'string') return refuse(target);

  const parsedQuery = query === undefined ? { pairs: new Map<string, string>() } : parseQuery(query);
  if ('reason' in parsedQuery) return refuse(parsedQuery.reason);
  const { type, pairs } = parsedQuery;

  const omemo: OmemoFingerprint[] = [];
  for (const [key, value] of pairs) {
    const device = OMEMO_KEY.exec(key);
    if (!device) continue;
    const id = device[1]!.length > 10 ? 0 : Number(device[1]);
    if (id < 1 || id > 0xffffffff) return refuse(`The link names an OMEMO device (${device[1]}) that cannot exist.`);
    if (!OMEMO_FINGERPRINT.test(value)) return refuse(`The link’s OMEMO fingerprint for device ${id} is malformed.`);
    omemo.push({ device: id, fingerprint: value.toLowerCase().slice(value.length - 64) });
  }

  const action = parseAction(type, pairs);
  if ('reason' in action) return refuse(action.reason);
  const uri: XmppUri = { target, action: action.action, omemo };
  if (account) uri.account = account;
  if (action.ignored) uri.ignoredAction = action.ignored;
  return { ok: true, uri };
}

function parseQuery(query: string): { type?: string; pairs: Map<string, string> } | { reason: string } {
  const parts = query.split(';');
  if (parts.length > MAX_PAIRS + 1) return { reason: 'The link has too many parameters.' };
  let type: string | undefined;
  // Conversations writes its fingerprints straight after "?", with no query type.
  if (parts[0] !== undefined && !parts[0].includes('=')) {
    type = parts.shift()!;
    if (type && !QUERY_TYPE.test(type)) return { reason: 'The link’s action is not a valid name.' };
  }
  const pairs = new Map<string, string>();
  for (const part of parts) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    if (equals <= 0) return { reason: 'The link has a parameter without a name or value.' };
    const key = decode(part.slice(0, equals));
    const value = decode(part.slice(equals + 1));
    if (key === null || value === null) return { reason: 'The link’s parameters are badly percent-encoded.' };
    // The first of two differing values could be the one shown and the second the one used.
    if (pairs.has(key)) return { reason: `The link gives “${key}” twice.` };
    pairs.set(key, value);
  }
  return { ...(type ? { type } : {}), pairs };
}

// What the text of a parameter may hold: newlines and tabs in a message body, no other controls.
const BODY_FORBIDDEN = /[\p{Cc}]/u;
const LINE_FORBIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

function textParam(pairs: Map<string, string>, key: string, max: number, multiline = false): string | undefined | { reason: string } {
  const value = pairs.get(key);
  if (value === undefined || value === '') return undefined;
  if (value.length > max) return { reason: `The link’s ${key} is too long.` };
  const forbidden = multiline ? BODY_FORBIDDEN : LINE_FORBIDDEN;
  if (forbidden.test(multiline ? value.replace(/[\r\n\t]/g, '') : value)) return { reason: `The link’s ${key} contains control characters.` };
  return value;
}

function parseAction(type: string | undefined, pairs: Map<string, string>): { action: XmppUriAction; ignored?: string } | { reason: string } {
  const read: Record<string, string | undefined> = {};
  for (const key of (type && ACTION_KEYS[type]) || []) {
    const max = key === 'body' ? MAX_LINK_BODY : key === 'password' ? MAX_LINK_PASSWORD : key === 'jid' ? 3071 : MAX_LINK_TEXT;
    const value = textParam(pairs, key, max, key === 'body');
    if (typeof value === 'object') return value;
    if (value !== undefined) read[key] = value;
  }
  const some = <K extends string>(entries: Array<[K, string | undefined]>) =>
    Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as Partial<Record<K, string>>;
  switch (type) {
    case undefined:
      return { action: { kind: 'open' } };
    case 'message':
      return { action: { kind: 'message', ...some([['body', read.body], ['subject', read.subject]]) } };
    case 'roster':
      return { action: { kind: 'roster', ...some([['name', read.name], ['group', read.group]]) } };
    case 'subscribe':
      return { action: { kind: 'subscribe' } };
    case 'join':
      return { action: { kind: 'join', ...some([['password', read.password]]) } };
    case 'invite': {
      if (!read.jid) return { reason: 'The invitation link does not say whom to invite.' };
      // Already decoded: encode it again (the % too) so linkJid reads it the way it reads a link.
      const invitee = linkJid(encodeURI(read.jid), 'invited address');
      if (typeof invitee === 'string') return { reason: invitee };
      return { action: { kind: 'invite', invitee: invitee.bare, ...some([['password', read.password]]) } };
    }
    case 'register':
      return { action: { kind: 'register' } };
    default:
      // An action we do not know (or will not do from a link, like remove): just open the chat.
      return { action: { kind: 'open' }, ignored: type };
  }
}
