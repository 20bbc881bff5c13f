// Multi-user chat (XEP-0045) as pure parse and build: room presences (occupants, our own
// join, kicks, bans, errors), room messages with the room's own stanza-ids (XEP-0359),
// occupant-ids (XEP-0421), corrections, retractions and reactions by occupants, moderator
// retractions (XEP-0425), private messages from occupants, data forms (XEP-0004) for room
// configuration, admin items, self-ping (XEP-0410). Origin checks: everything counts only
// from a room we are in; what only the room may say (moderation, history delays, stanza-ids)
// only from the room's own bare JID.
import xml, { type Element } from '@xmpp/xml';
import type { DataFormView, PresenceShow } from '../../../preload/contract';
import type { MessageEventRecord, MessageRecord } from '../archive/archive';
import { parseJid } from './jid';
import { NS_MAM } from './mam';
import { NS_DELAY, NS_FORWARD, NS_SID, type Decryptor } from './chat';
import { findEncrypted } from './omemo';
import { NS_CORRECT, NS_FASTEN, NS_REACTIONS, NS_RETRACT, NS_RETRACT_0 } from './relations';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = `${NS_MUC}#user`;
export const NS_MUC_ADMIN = `${NS_MUC}#admin`;
export const NS_MUC_OWNER = `${NS_MUC}#owner`;
export const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
export const NS_PING = 'urn:xmpp:ping';
export const NS_MODERATE = 'urn:xmpp:message-moderate:1';
const NS_MODERATE_0 = 'urn:xmpp:message-moderate:0';
const NS_DATA = 'jabber:x:data';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export type Role = 'moderator' | 'participant' | 'visitor' | 'none';
export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';
const ROLES = new Set<string>(['moderator', 'participant', 'visitor', 'none']);
const AFFILIATIONS = new Set<string>(['owner', 'admin', 'member', 'outcast', 'none']);
const SHOWS = new Set(['chat', 'away', 'xa', 'dnd']);

export type Occupant = {
  nick: string;
  role: Role;
  affiliation: Affiliation;
  show: Exclude<PresenceShow, 'offline'>;
  status?: string;
  /** XEP-0421: who the occupant is across nick changes (only where the room vouches for it). */
  occupantId?: string;
  /** Their real bare JID, where the room shows it (non-anonymous rooms, or to moderators). */
  jid?: string;
};

/** Why an occupant is no longer in the room, in the room's words (status codes, §15.6). */
export type Departure = 'left' | 'kicked' | 'banned' | 'nick-changed' | 'affiliation-changed' | 'members-only' | 'shutdown' | 'destroyed';

export type RoomPresence =
  | { kind: 'available'; room: string; occupant: Occupant; self: boolean; created: boolean }
  | {
      kind: 'unavailable';
      room: string;
      nick: string;
      self: boolean;
      departure: Departure;
      newNick?: string;
      reason?: string;
      /** A destroyed room may name a place to go instead (§10.9). */
      alternate?: string;
    }
  | { kind: 'error'; room: string; nick: string; condition: string; text: string }
  | { kind: 'ignored'; reason: string };

export type RoomContext = {
  /** Whether `bare` is a room we are in or joining. */
  isRoom(bare: string): boolean;
  /** Our nick in that room (the one we are joining with, while joining). */
  ownNick(room: string): string | undefined;
};

/** What a room's refusal to let us in means to the user (XEP-0045 §7.2). */
const JOIN_ERRORS: Record<string, string> = {
  conflict: 'that nickname is already taken in this room; choose another one',
  'not-authorized': 'this room needs a password, and the one given is missing or wrong',
  forbidden: 'you are banned from this room',
  'registration-required': 'this room is for members only, and you are not a member',
  'item-not-found': 'this room does not exist (or no longer does)',
  'not-allowed': 'this server does not let you create rooms',
  'not-acceptable': 'this room wants you to use your registered nickname',
  'service-unavailable': 'this room is full, or the service is not available',
  'jid-malformed': 'the nickname is missing or not valid',
  gone: 'this room was closed for good',
  'remote-server-not-found': 'the server of this room cannot be reached',
  'remote-server-timeout': 'the server of this room did not answer',
};

export function errorCondition(error: Element | undefined): string {
  return error?.getChildElements().find((c) => c.getNS() === NS_STANZAS && c.name !== 'text')?.name ?? 'undefined-condition';
}

/** A room error in words a user understands, with the room's own text when it gave one. */
export function roomErrorText(error: Element | undefined): string {
  const condition = errorCondition(error);
  const said = error?.getChildText('text', NS_STANZAS)?.trim();
  const words = JOIN_ERRORS[condition] ?? `the room refused (${condition.replaceAll('-', ' ')})`;
  return said ? `${words} (“${said.slice(0, 200)}”)` : words;
}

/** The status codes of a room's message or presence (its muc#user element). */
export function statusCodesOf(stanza: Element): Set<string> {
  return statusCodes(stanza.getChild('x', NS_MUC_USER));
}

function statusCodes(x: Element | undefined): Set<string> {
  return new Set((x?.getChildren('status') ?? []).map((s) => s.attrs.code).filter((c): c is string => typeof c === 'string'));
}

function departureOf(codes: Set<string>, destroyed: boolean): Departure {
  if (destroyed) return 'destroyed';
  if (codes.has('303')) return 'nick-changed';
  if (codes.has('301')) return 'banned';
  if (codes.has('307')) return 'kicked';
  if (codes.has('321')) return 'affiliation-changed';
  if (codes.has('322')) return 'members-only';
  if (codes.has('332')) return 'shutdown';
  return 'left';
}

/**
 * A presence from an occupant of a room we are in. The occupant-id counts only when the
 * room says it adds them (`occupantIds`): otherwise it is the sender's own claim.
 */
export function parseRoomPresence(stanza: Element, ctx: RoomContext & { occupantIds(room: string): boolean }): RoomPresence {
  const from = parseJid(stanza.attrs.from);
  if (!from || !ctx.isRoom(from.bare)) return { kind: 'ignored', reason: 'not from a room of ours' };
  const room = from.bare;
  const nick = from.resource;
  const type = stanza.attrs.type;
  if (type === 'error') {
    const error = stanza.getChild('error');
    return { kind: 'error', room, nick, condition: errorCondition(error), text: roomErrorText(error) };
  }
  if (!nick) return { kind: 'ignored', reason: 'room presence without a nick' };
  if (type !== undefined && type !== 'unavailable') return { kind: 'ignored', reason: `room presence of type ${type}` };
  const x = stanza.getChild('x', NS_MUC_USER);
  if (!x) return { kind: 'ignored', reason: 'room presence without muc#user' };
  const codes = statusCodes(x);
  // Status 110 marks our own presence; a server that omits it still names our nick.
  const self = codes.has('110') || ctx.ownNick(room) === nick;
  const item = x.getChild('item');
  if (type === 'unavailable') {
    const destroy = x.getChild('destroy');
    const newNick = codes.has('303') ? item?.attrs.nick : undefined;
    const reason = (destroy ?? item)?.getChildText('reason')?.trim();
    return {
      kind: 'unavailable',
      room,
      nick,
      self,
      departure: departureOf(codes, Boolean(destroy)),
      ...(newNick ? { newNick } : {}),
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
      ...(destroy?.attrs.jid && parseJid(destroy.attrs.jid) ? { alternate: parseJid(destroy.attrs.jid)!.bare } : {}),
    };
  }
  const role = ROLES.has(item?.attrs.role ?? '') ? (item!.attrs.role as Role) : 'participant';
  const affiliation = AFFILIATIONS.has(item?.attrs.affiliation ?? '') ? (item!.attrs.affiliation as Affiliation) : 'none';
  const show = stanza.getChildText('show') ?? '';
  const status = stanza.getChildText('status')?.trim();
  const occupantId = ctx.occupantIds(room) ? stanza.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id : undefined;
  const jid = parseJid(item?.attrs.jid)?.bare;
  return {
    kind: 'available',
    room,
    occupant: {
      nick,
      role,
      affiliation,
      show: SHOWS.has(show) ? (show as Occupant['show']) : 'available',
      ...(status ? { status: status.slice(0, 500) } : {}),
      ...(occupantId ? { occupantId } : {}),
      ...(jid ? { jid } : {}),
    },
    self,
    created: codes.has('201'),
  };
}

export type RoomMessageContext = {
  room: string;
  ownBareJid: string;
  ownNick: string;
  /** Our occupant-id in the room, once the room told us. */
  ownOccupantId?: string;
  /** The room adds occupant-ids (XEP-0421): only then does one count. */
  occupantIds: boolean;
  now: number;
  /** Reads an OMEMO message (XEP-0384 §6.3: with the sender's real JID); absent, nothing is decrypted. */
  decrypt?: Decryptor | undefined;
  /** An occupant's real bare JID, from the room's occupant list (by occupant-id where the room vouches for them, else by nick). */
  realJid?: ((nick: string, occupantId?: string) => string | undefined) | undefined;
};

export type ParsedRoomMessage =
  | { kind: 'message'; record: MessageRecord }
  /** Our own encrypted message coming back from the room: nothing to decrypt or store, only to confirm. */
  | { kind: 'echo'; messageId?: string; originId?: string }
  | { kind: 'subject'; room: string; subject: string; nick?: string }
  | { kind: 'event'; event: MessageEventRecord }
  /** A moderator retracted a message (XEP-0425): the room says so, the author's say does not matter. */
  | { kind: 'moderated'; event: MessageEventRecord; moderator?: string; reason?: string }
  | { kind: 'error'; room: string; messageId: string; text: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'rejected'; reason: string };

/**
 * How a room message is timed: a `<delay/>` counts only when the room added it (history it
 * replays, XEP-0045 §7.2.15); one from anyone else is the sender's say-so. Never later than now.
 */
function roomTiming(stanza: Element, room: string, now: number): number {
  const delay = stanza.getChildren('delay', NS_DELAY).find((el) => parseJid(el.attrs.from)?.full === room);
  const stamp = Date.parse(delay?.attrs.stamp ?? '');
  return Number.isFinite(stamp) ? Math.min(stamp, now) : now;
}

/** A groupchat message of a room we are in, live (`archived` absent) or from the room's archive. */
export function parseRoomMessage(
  stanza: Element,
  ctx: RoomMessageContext,
  archived?: { stanzaId: string; stamp: number },
): ParsedRoomMessage {
  const from = parseJid(stanza.attrs.from);
  if (!from || from.bare !== ctx.room) return { kind: 'rejected', reason: `room message from ${stanza.attrs.from ?? 'nobody'} for ${ctx.room}` };
  const id = stanza.attrs.id;
  if (stanza.attrs.type === 'error') {
    if (!id) return { kind: 'ignored', reason: 'room error without id' };
    return { kind: 'error', room: ctx.room, messageId: id, text: roomErrorText(stanza.getChild('error')) };
  }
  if (stanza.attrs.type !== 'groupchat') return { kind: 'ignored', reason: `room message of type ${stanza.attrs.type ?? 'normal'}` };
  const nick = from.resource;
  const ts = archived ? (Number.isFinite(archived.stamp) ? Math.min(archived.stamp, ctx.now) : ctx.now) : roomTiming(stanza, ctx.room, ctx.now);
  // Only the room's own stanza-id is the room's (XEP-0359 §3.1); live, from the room's stamp.
  const stanzaIdValue = archived?.stanzaId ?? stanza.getChildren('stanza-id', NS_SID).find((el) => el.attrs.by === ctx.room && el.attrs.id)?.attrs.id;
  const stanzaId = stanzaIdValue ? { id: stanzaIdValue, by: ctx.room } : undefined;

  const moderation = parseModeration(stanza);
  if (moderation) {
    if (nick) return { kind: 'rejected', reason: `a moderation claimed by the occupant ${nick}, not the room` };
    const { target, moderator, reason } = moderation;
    return {
      kind: 'moderated',
      event: { kind: 'retraction', peer: ctx.room, sender: ctx.room, target, ts, moderated: true, ...(id ? { messageId: id } : {}), ...(stanzaId ? { stanzaId } : {}) },
      ...(moderator ? { moderator } : {}),
      ...(reason ? { reason } : {}),
    };
  }
  const subject = stanza.getChild('subject');
  const body = stanza.getChildText('body');
  // §8.1: a subject change is a message with a subject and no body.
  if (subject && (body === null || body === '')) return { kind: 'subject', room: ctx.room, subject: subject.text().slice(0, 2000), ...(nick ? { nick } : {}) };
  if (!nick) return { kind: 'ignored', reason: 'a notice from the room itself' };

  const occupantId = ctx.occupantIds ? stanza.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id : undefined;
  // Ours when the room's occupant-id says so; without occupant-ids, by our nick.
  const ours = occupantId && ctx.ownOccupantId ? occupantId === ctx.ownOccupantId : nick === ctx.ownNick;
  const sender = ours ? ctx.ownBareJid : from.full;
  const originId = stanza.getChild('origin-id', NS_SID)?.attrs.id;
  const ids = {
    ...(id ? { messageId: id } : {}),
    ...(originId ? { originId } : {}),
    ...(stanzaId ? { stanzaId } : {}),
    ...(occupantId ? { occupantId } : {}),
  };

  const retract = stanza.getChild('retract', NS_RETRACT);
  if (retract?.attrs.id) return { kind: 'event', event: { kind: 'retraction', peer: ctx.room, sender, target: retract.attrs.id, ts, ...ids } };
  const reactions = stanza.getChild('reactions', NS_REACTIONS);
  if (reactions?.attrs.id) {
    const emojis = reactions.getChildren('reaction').map((r) => r.text().trim()).filter((e) => e && e.length <= 32).slice(0, 20);
    return { kind: 'event', event: { kind: 'reaction', peer: ctx.room, sender, target: reactions.attrs.id, ts, emojis, ...ids } };
  }
  const decrypted = readEncrypted(stanza, ctx, ours, nick, occupantId);
  if (decrypted?.kind === 'skip') return ours ? { kind: 'echo', ...(id ? { messageId: id } : {}), ...(originId ? { originId } : {}) } : { kind: 'ignored', reason: decrypted.reason };
  const text = decrypted ? decrypted.body : body;
  if (text === null || text.trim() === '') return { kind: 'ignored', reason: 'room message without body' };
  const replaces = stanza.getChild('replace', NS_CORRECT)?.attrs.id;
  return {
    kind: 'message',
    record: {
      peer: ctx.room,
      direction: ours ? 'out' : 'in',
      sender,
      ...ids,
      body: text,
      ts,
      state: ours ? 'delivered' : 'received',
      ...(replaces ? { replaces } : {}),
      ...(decrypted ? { encryption: decrypted.encryption } : {}),
      ...(decrypted?.senderDevice !== undefined ? { senderDevice: decrypted.senderDevice } : {}),
      ...(decrypted?.kind === 'failed' ? { undecryptable: true as const } : {}),
    },
  };
}

/**
 * An OMEMO room message, read with its author's real JID (ours, or the occupant list's). One
 * whose author's JID is unknown cannot be checked against a device of anyone's: it is stored
 * as undecryptable with that reason, never its fallback body as if it were the text.
 */
function readEncrypted(stanza: Element, ctx: RoomMessageContext, ours: boolean, nick: string, occupantId: string | undefined) {
  if (!ctx.decrypt) return undefined;
  const found = findEncrypted(stanza);
  if (!found) return undefined;
  const sender = ours ? ctx.ownBareJid : ctx.realJid?.(nick, occupantId);
  if (!sender) {
    return {
      kind: 'failed' as const,
      body: `This message could not be decrypted: the room does not show who ${nick} is, so their devices are unknown.`,
      encryption: found.version === 'legacy' ? ('omemo' as const) : ('omemo2' as const),
    };
  }
  return ctx.decrypt(stanza, { sender, peer: ctx.room, direction: ours ? 'out' : 'in', groupchat: true });
}

/** XEP-0425 as the room broadcasts it: version 1 (`<retract><moderated/>`) or 0 (fastening). */
function parseModeration(stanza: Element): { target: string; moderator?: string; reason?: string } | undefined {
  const retract = stanza.getChild('retract', NS_RETRACT);
  const moderated = retract?.getChild('moderated', NS_MODERATE);
  if (retract?.attrs.id && moderated) {
    const reason = retract.getChildText('reason')?.trim();
    return { target: retract.attrs.id, ...(moderated.attrs.by ? { moderator: moderated.attrs.by } : {}), ...(reason ? { reason } : {}) };
  }
  const applyTo = stanza.getChild('apply-to', NS_FASTEN);
  const old = applyTo?.getChild('moderated', NS_MODERATE_0);
  if (applyTo?.attrs.id && old?.getChild('retract', NS_RETRACT_0)) {
    const reason = old.getChildText('reason')?.trim();
    return { target: applyTo.attrs.id, ...(old.attrs.by ? { moderator: old.attrs.by } : {}), ...(reason ? { reason } : {}) };
  }
  return undefined;
}

export type PrivateMessage = { kind: 'private'; record: MessageRecord } | { kind: 'ignored'; reason: string };

/**
 * A private message from an occupant (§7.5): its conversation is the occupant's room JID
 * (room@service/nick), never the real JID's one-to-one chat, whatever the sender claims.
 */
export function parsePrivateMessage(stanza: Element, room: string, now: number): PrivateMessage {
  const from = parseJid(stanza.attrs.from);
  if (!from || from.bare !== room || !from.resource) return { kind: 'ignored', reason: 'not from an occupant' };
  const body = stanza.getChildText('body');
  if (body === null || body.trim() === '') return { kind: 'ignored', reason: 'private message without body' };
  const id = stanza.attrs.id;
  const originId = stanza.getChild('origin-id', NS_SID)?.attrs.id;
  return {
    kind: 'private',
    record: {
      peer: from.full,
      direction: 'in',
      sender: from.full,
      ...(id ? { messageId: id } : {}),
      ...(originId ? { originId } : {}),
      body,
      // An occupant is no server of ours: its delay is its own say-so.
      ts: now,
      state: 'received',
    },
  };
}

/** One result of a query to a room's archive: it counts only from that room, for a query we sent. */
export function parseRoomArchiveResult(
  stanza: Element,
  ctx: RoomMessageContext & { queryIds: ReadonlySet<string> },
): { kind: 'result'; archiveId: string; message: ParsedRoomMessage } | { kind: 'rejected'; reason: string } {
  if (stanza.attrs.from !== ctx.room) return { kind: 'rejected', reason: `room archive result from ${stanza.attrs.from ?? 'our server'} for ${ctx.room}` };
  const result = stanza.getChild('result', NS_MAM);
  if (!result || !ctx.queryIds.has(result.attrs.queryid ?? '')) return { kind: 'rejected', reason: 'room archive result for a query we did not send' };
  const forwarded = result.getChild('forwarded', NS_FORWARD);
  const inner = forwarded?.getChild('message');
  const archiveId = result.attrs.id;
  if (!archiveId || !inner) return { kind: 'rejected', reason: 'room archive result without id or message' };
  const stamp = Date.parse(forwarded!.getChild('delay', NS_DELAY)?.attrs.stamp ?? '');
  // Archived messages may lack the type (some servers strip it): the room's archive holds groupchat messages.
  const message = inner.attrs.type ? inner : Object.assign(inner.clone(), { attrs: { ...inner.attrs, type: 'groupchat' } });
  return { kind: 'result', archiveId, message: parseRoomMessage(message, ctx, { stanzaId: archiveId, stamp }) };
}

// ── discovery ───────────────────────────────────────────────────────────
export type DiscoItem = { jid: string; name?: string };

export function discoItemsQuery(): Element {
  return xml('query', { xmlns: NS_DISCO_ITEMS });
}

export function parseDiscoItems(query: Element | undefined): DiscoItem[] {
  return (query?.getChildren('item') ?? []).flatMap((item) => {
    const jid = parseJid(item.attrs.jid)?.bare;
    if (!jid) return [];
    const name = item.attrs.name?.trim();
    return [{ jid, ...(name ? { name: name.slice(0, 200) } : {}) }];
  });
}

// ── data forms (XEP-0004) ───────────────────────────────────────────────
export type DataForm = DataFormView;
type FormField = DataFormView['fields'][number];

export function parseDataForm(x: Element | undefined): DataForm | undefined {
  if (!x?.is('x', NS_DATA)) return undefined;
  const title = x.getChildText('title')?.trim();
  const instructions = x.getChildren('instructions').map((i) => i.text().trim()).filter(Boolean).join('\n');
  const fields = x.getChildren('field').flatMap((f): FormField[] => {
    if (!f.attrs.var && f.attrs.type !== 'fixed') return [];
    const options = f.getChildren('option').flatMap((o) => {
      const value = o.getChildText('value');
      return value === null ? [] : [{ value, ...(o.attrs.label ? { label: o.attrs.label } : {}) }];
    });
    return [
      {
        var: f.attrs.var ?? '',
        type: f.attrs.type ?? 'text-single',
        ...(f.attrs.label ? { label: f.attrs.label } : {}),
        values: f.getChildren('value').map((v) => v.text()),
        ...(options.length ? { options } : {}),
        ...(f.getChild('required') ? { required: true } : {}),
      },
    ];
  });
  return { ...(title ? { title } : {}), ...(instructions ? { instructions } : {}), fields };
}

/** A submitted form: the FORM_TYPE it answers and the values given, each field as a list. */
export function submitForm(formType: string | undefined, values: Readonly<Record<string, readonly string[]>>): Element {
  const fields = Object.entries(values)
    .filter(([name]) => name !== 'FORM_TYPE')
    .map(([name, list]) => xml('field', { var: name }, ...list.map((v) => xml('value', {}, v))));
  const type = formType ? [xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, formType))] : [];
  return xml('x', { xmlns: NS_DATA, type: 'submit' }, ...type, ...fields);
}

// ── what we send ────────────────────────────────────────────────────────
/** Joining (§7.2): with `maxstanzas: 0` when the room's archive gives us the history instead. */
export function joinPresence(room: string, nick: string, options: { password?: string; maxstanzas?: number; extensions?: Element[] } = {}): Element {
  return xml(
    'presence',
    { to: `${room}/${nick}` },
    xml(
      'x',
      { xmlns: NS_MUC },
      options.maxstanzas !== undefined ? xml('history', { maxstanzas: String(options.maxstanzas) }) : null,
      options.password ? xml('password', {}, options.password) : null,
    ),
    ...(options.extensions ?? []),
  );
}

export function leavePresence(room: string, nick: string): Element {
  return xml('presence', { to: `${room}/${nick}`, type: 'unavailable' });
}

/** A nick change (§7.6) is a presence to the new occupant JID, without the muc element. */
export function nickPresence(room: string, nick: string): Element {
  return xml('presence', { to: `${room}/${nick}` });
}

/** A room message; `id` doubles as origin-id, by which the room's echo confirms it. */
export function roomMessage(room: string, id: string, body: string): Element {
  return xml('message', { type: 'groupchat', to: room, id }, xml('body', {}, body), xml('origin-id', { xmlns: NS_SID, id }));
}

/** A private message to an occupant (§7.5), marked so that carbons of it are known as such. */
export function privateMessage(occupant: string, id: string, body: string): Element {
  return xml('message', { type: 'chat', to: occupant, id }, xml('body', {}, body), xml('origin-id', { xmlns: NS_SID, id }), xml('x', { xmlns: NS_MUC_USER }));
}

export function subjectMessage(room: string, subject: string): Element {
  return xml('message', { type: 'groupchat', to: room }, xml('subject', {}, subject));
}

export type AdminItem = { nick?: string; jid?: string; role?: Role; affiliation?: Affiliation; reason?: string };

/** Roles by nick (kick, voice, moderator) and affiliations by JID (ban, member, admin, owner), §8–§10. */
export function adminQuery(items: AdminItem[]): Element {
  return xml(
    'query',
    { xmlns: NS_MUC_ADMIN },
    ...items.map(({ reason, ...attrs }) =>
      xml('item', Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined)) as Record<string, string>, reason ? xml('reason', {}, reason) : null),
    ),
  );
}

/** The real bare JIDs an affiliation list names (the answer to `adminQuery([{ affiliation }])`, §9.5). */
export function parseAffiliationList(query: Element | undefined): string[] {
  return (query?.getChildren('item') ?? []).flatMap((item) => {
    const jid = parseJid(item.attrs.jid);
    return jid?.local ? [jid.bare] : [];
  });
}

export function ownerQuery(...children: Element[]): Element {
  return xml('query', { xmlns: NS_MUC_OWNER }, ...children);
}

export function destroyQuery(reason?: string, alternate?: string): Element {
  return ownerQuery(xml('destroy', alternate ? { jid: alternate } : {}, reason ? xml('reason', {}, reason) : null));
}

export function selfPing(): Element {
  return xml('ping', { xmlns: NS_PING });
}

/** A moderator's request to retract an occupant's message by the room's stanza-id (XEP-0425). */
export function moderateQuery(stanzaId: string, reason?: string): Element {
  return xml('moderate', { xmlns: NS_MODERATE, id: stanzaId }, xml('retract', { xmlns: NS_RETRACT }), reason ? xml('reason', {}, reason) : null);
}

/** What a self-ping's answer means (XEP-0410 §3.2). */
export type PingVerdict = 'joined' | 'not-joined' | 'unreachable';

export function selfPingVerdict(error: { name?: string; condition?: string } | undefined): PingVerdict {
  if (!error) return 'joined';
  // Joined, but the occupant's client (or the nick's) does not answer pings itself.
  if (error.condition === 'service-unavailable' || error.condition === 'feature-not-implemented' || error.condition === 'item-not-found') return 'joined';
  // The room's server is out of reach: rejoining would not help now.
  if (error.name === 'TimeoutError' || error.condition === 'remote-server-not-found' || error.condition === 'remote-server-timeout') return 'unreachable';
  return 'not-joined';
}

// ── invitations: direct (XEP-0249) and mediated by the room (XEP-0045 §7.8) ──
export const NS_CONFERENCE = 'jabber:x:conference';

export type Invite = {
  kind: 'invite';
  via: 'direct' | 'mediated';
  room: string;
  /** Who invites: the sender of a direct invite, the `from` a room names in a mediated one (bare). */
  inviter: string;
  reason?: string;
  password?: string;
};

/** An invitation in a message; `undefined` when the message carries none. */
export function parseInvite(stanza: Element, ownBare: string): Invite | { kind: 'rejected'; reason: string } | undefined {
  if (!stanza.is('message')) return undefined;
  const direct = stanza.getChild('x', NS_CONFERENCE);
  const mediated = stanza.getChild('x', NS_MUC_USER)?.getChild('invite');
  if (!direct && !mediated) return undefined;
  const type = stanza.attrs.type;
  if (type === 'error' || type === 'groupchat') return { kind: 'rejected', reason: `an invitation in a ${type} message` };
  const from = parseJid(stanza.attrs.from);
  if (!from) return { kind: 'rejected', reason: 'an invitation without a sender' };
  const text = (value: string | null | undefined) => (value && value.trim() !== '' ? value.trim().slice(0, 1000) : undefined);
  const extras = (reason: string | undefined, password: string | undefined) => ({
    ...(reason ? { reason } : {}),
    ...(password ? { password: password.slice(0, 1024) } : {}),
  });
  if (mediated) {
    // Only the room itself forwards a mediated invitation: from its bare JID, never an occupant or a user's device.
    if (from.resource || !from.local) return { kind: 'rejected', reason: 'a mediated invitation not from a room' };
    const inviter = parseJid(mediated.attrs.from);
    if (!inviter?.local) return { kind: 'rejected', reason: 'a mediated invitation that does not say who invites' };
    if (from.bare === ownBare) return { kind: 'rejected', reason: 'a mediated invitation from our own account' };
    const password = stanza.getChild('x', NS_MUC_USER)?.getChildText('password') ?? undefined;
    return { kind: 'invite', via: 'mediated', room: from.bare, inviter: inviter.bare, ...extras(text(mediated.getChildText('reason')), password) };
  }
  const room = parseJid(direct!.attrs.jid);
  if (!room?.local || room.resource) return { kind: 'rejected', reason: 'a direct invitation without a room address' };
  // Our own devices do not invite us; a copy of one we sent is not for us to answer.
  if (from.bare === ownBare) return { kind: 'rejected', reason: 'a direct invitation from our own account' };
  return { kind: 'invite', via: 'direct', room: room.bare, inviter: from.bare, ...extras(text(direct!.attrs.reason), direct!.attrs.password) };
}

/** A direct invitation (XEP-0249) to `to`, naming the room. */
export function directInvite(to: string, room: string, reason?: string, password?: string): Element {
  return xml('message', { to }, xml('x', { xmlns: NS_CONFERENCE, jid: room, ...(reason ? { reason } : {}), ...(password ? { password } : {}) }));
}

/** Declines a mediated invitation: the room tells the inviter (§7.8.2). */
export function declineInvite(room: string, inviter: string, reason?: string): Element {
  return xml('message', { to: room }, xml('x', { xmlns: NS_MUC_USER }, xml('decline', { to: inviter }, ...(reason ? [xml('reason', {}, reason)] : []))));
}
