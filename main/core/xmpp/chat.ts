// One-to-one messages: parse what arrives (live or as a carbon, XEP-0280), with origin
// checks, stanza/origin ids (XEP-0359), delayed delivery (XEP-0203), receipts (XEP-0184)
// and displayed markers (XEP-0333), and what a message says of another (relations.ts); build
// what we send.
import xml, { type Element } from '@xmpp/xml';
import type { MessageEventRecord, MessageRecord } from '../archive/archive';
import { parseJid } from './jid';
import { NS_MARKERS, parseDisplayed } from './markers';
import { parseCorrection, parseRelationEvent, parseReply, replyBody, replyElements, type ReplyRef } from './relations';
import { activeState } from './chat-states';
import { NS_MUC_USER } from './muc';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_SID = 'urn:xmpp:sid:0';
export const NS_DELAY = 'urn:xmpp:delay';
export const NS_RECEIPTS = 'urn:xmpp:receipts';

/**
 * What an end-to-end encrypted message (OMEMO) reads as, from the injected decryptor: its
 * text, or why it could not be read (stored as such, never dropped), or `skip` when there is
 * nothing to store (our own message coming back, one already decrypted, an empty message).
 * `content`: what an SCE envelope (OMEMO 2) carried, the body among it; the message's
 * relations are read there and nowhere else (XEP-0420 §8: what is outside was not encrypted).
 */
export type Decrypted =
  | { kind: 'text' | 'failed'; body: string; encryption: 'omemo' | 'omemo2'; senderDevice?: number; content?: Element[] }
  | { kind: 'skip'; reason: string };
/**
 * `sender`: the author's (real) bare JID; `peer`: the conversation's; `groupchat`: a room's
 * message, addressed to the room. Undefined: the message is not encrypted.
 */
export type Decryptor = (message: Element, parties: { sender: string; peer: string; direction: 'in' | 'out'; groupchat?: boolean }) => Decrypted | undefined;

export type ChatContext = { ownBareJid: string; now: number; decrypt?: Decryptor | undefined };

/**
 * Who vouches for a message's time: `server` when our own server stamped it (offline storage,
 * XEP-0160) or our own archive returned it (XEP-0313); `arrival` when we timed it ourselves.
 */
export type TimedBy = 'server' | 'arrival';

export type ParsedMessage =
  | { kind: 'chat'; record: MessageRecord; replyTo: string; receiptRequested: boolean; timedBy: TimedBy }
  | { kind: 'receipt'; peer: string; messageId: string }
  /** A reaction or retraction naming an earlier message (XEP-0444, XEP-0424). */
  | { kind: 'event'; event: MessageEventRecord }
  /** `in`: the peer displayed our messages up to `messageId`; `out`: one of my devices displayed theirs. */
  | { kind: 'displayed'; peer: string; messageId: string; direction: 'in' | 'out' }
  /** `condition`: the RFC 6120 §8.3.3 condition, e.g. resource-constraint (their offline queue is full). */
  | { kind: 'error'; peer: string; messageId: string; text: string; condition?: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'rejected'; reason: string };

type Timing = { ts: number; timedBy: TimedBy };

/** A time from someone we trust, never later than now: a stamp in the future is a clock error or a lie. */
function vouched(ms: number, now: number): Timing {
  return { ts: Number.isFinite(ms) ? Math.min(ms, now) : now, timedBy: Number.isFinite(ms) ? 'server' : 'arrival' };
}

/**
 * The time of a message that reached us directly. A `<delay/>` counts only when our own server
 * added it (XEP-0203 `from`: Prosody and ejabberd put their domain there when they flush
 * offline storage); any other delay is the sender's say-so, and the message is timed on arrival.
 */
function directTiming(stanza: Element, ctx: ChatContext): Timing {
  const ownDomain = parseJid(ctx.ownBareJid)?.domain;
  const delay = ownDomain && stanza.getChildren('delay', NS_DELAY).find((el) => parseJid(el.attrs.from)?.full === ownDomain);
  return delay ? vouched(Date.parse(delay.attrs.stamp ?? ''), ctx.now) : { ts: ctx.now, timedBy: 'arrival' };
}

// What a bounced message's condition (RFC 6120 §8.3.3) means to the person who sent it.
const ERROR_REASONS: Record<string, string> = {
  'service-unavailable': 'this address does not exist or does not accept messages',
  'item-not-found': 'this address does not exist',
  'recipient-unavailable': 'the recipient is not available',
  'remote-server-not-found': 'their server could not be found',
  'remote-server-timeout': 'their server did not answer',
  forbidden: 'you are not allowed to message this address',
  'not-allowed': 'you are not allowed to message this address',
  'not-authorized': 'you are not allowed to message this address',
  'policy-violation': 'the server refused the message',
  'not-acceptable': 'the server refused the message',
  'resource-constraint': 'the server is overloaded',
  'jid-malformed': 'this is not a valid address',
};

function errorCondition(error: Element | undefined): string | undefined {
  return error?.getChildElements().find((c) => c.getNS() === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text')?.name;
}

function errorText(error: Element | undefined): string {
  const text = error?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')?.trim();
  const condition = errorCondition(error);
  const reason = (condition && ERROR_REASONS[condition]) || condition?.replaceAll('-', ' ') || 'the message could not be delivered';
  // The server's own words, when it gave any, say more than the condition.
  return text ? `${reason} (${text.slice(0, 200)})` : reason;
}

/**
 * Parses a `<message/>` addressed to our account. Carbons are unwrapped only when they come
 * from our own bare JID; anyone else sending one is trying to put words in our mouth.
 */
export function parseMessage(stanza: Element, ctx: ChatContext): ParsedMessage {
  const carbon = stanza.getChild('received', NS_CARBONS) ?? stanza.getChild('sent', NS_CARBONS);
  if (carbon) {
    if (stanza.attrs.from !== ctx.ownBareJid) return { kind: 'rejected', reason: `carbon from ${stanza.attrs.from ?? 'nobody'}` };
    const inner = carbon.getChild('forwarded', NS_FORWARD)?.getChild('message');
    if (!inner) return { kind: 'rejected', reason: 'carbon without a forwarded message' };
    // A carbon is a copy of a live message: the delays inside it are the sender's.
    return parseDirect(inner, ctx, carbon.name === 'sent' ? 'out' : 'in', { ts: ctx.now, timedBy: 'arrival' });
  }
  return parseDirect(stanza, ctx, 'in', directTiming(stanza, ctx));
}

/**
 * A message as stored in our own archive (MAM): outgoing when we sent it, with the archive's
 * id as its stanza-id and the archive's timestamp (NaN when it gave none); a delay inside the
 * archived message is the sender's and does not count.
 */
export function parseArchivedMessage(inner: Element, ctx: ChatContext, stanzaId: { id: string; by: string }, stamp: number): ParsedMessage {
  const fromBare = parseJid(inner.attrs.from ?? ctx.ownBareJid)?.bare;
  const parsed = parseDirect(inner, ctx, fromBare === ctx.ownBareJid ? 'out' : 'in', vouched(stamp, ctx.now));
  if (parsed.kind === 'chat') return { ...parsed, record: { ...parsed.record, stanzaId } };
  return parsed.kind === 'event' ? { ...parsed, event: { ...parsed.event, stanzaId } } : parsed;
}

function parseDirect(stanza: Element, ctx: ChatContext, direction: 'in' | 'out', timing: Timing): ParsedMessage {
  const from = parseJid(stanza.attrs.from ?? ctx.ownBareJid);
  const to = parseJid(stanza.attrs.to ?? ctx.ownBareJid);
  if (!from || !to) return { kind: 'rejected', reason: 'message with a malformed address' };
  if (direction === 'out' && from.bare !== ctx.ownBareJid) return { kind: 'rejected', reason: 'sent carbon not from our account' };
  // A room's private message (XEP-0045 §7.5) belongs with the occupant (room@service/nick), never in a one-to-one chat.
  const occupant = Boolean(stanza.getChild('x', NS_MUC_USER));
  const peer = direction === 'out' ? (occupant ? to.full : to.bare) : occupant ? from.full : from.bare;
  const type = stanza.attrs.type ?? 'normal';
  const id = stanza.attrs.id;

  if (type === 'error') {
    if (!id) return { kind: 'ignored', reason: 'error without id' };
    // An error one of my devices sent is about their message, not ours.
    if (direction === 'out') return { kind: 'ignored', reason: 'an error my other device sent' };
    // `peer` is who bounced it: the caller moves only a message we sent to that same address.
    const condition = errorCondition(stanza.getChild('error'));
    return { kind: 'error', peer, messageId: id, text: errorText(stanza.getChild('error')), ...(condition ? { condition } : {}) };
  }
  const receipt = stanza.getChild('received', NS_RECEIPTS);
  if (receipt?.attrs.id && direction === 'in') return { kind: 'receipt', peer, messageId: receipt.attrs.id };
  // A marker travels alone (XEP-0333 §5); should one ride along with a body, the body wins.
  // Group chat markers are the room's business, not handled here.
  const displayed = parseDisplayed(stanza);
  if (displayed && type !== 'groupchat' && !stanza.getChild('body')) return { kind: 'displayed', peer, messageId: displayed, direction };
  if (type !== 'chat' && type !== 'normal') return { kind: 'ignored', reason: `message type ${type}` };

  // A stanza-id counts only when our own archive stamped it (XEP-0359 §3.1).
  const stanzaIdEl = stanza.getChildren('stanza-id', NS_SID).find((el) => el.attrs.by === ctx.ownBareJid && el.attrs.id);
  const originId = stanza.getChild('origin-id', NS_SID)?.attrs.id;
  const ids = {
    peer,
    sender: occupant && direction === 'in' ? from.full : from.bare,
    ...(id ? { messageId: id } : {}),
    ...(originId ? { originId } : {}),
    ...(stanzaIdEl ? { stanzaId: { id: stanzaIdEl.attrs.id!, by: ctx.ownBareJid } } : {}),
    ts: timing.ts,
  };
  const decrypted = occupant ? undefined : ctx.decrypt?.(stanza, { sender: from.bare, peer, direction });
  if (decrypted?.kind === 'skip') return { kind: 'ignored', reason: decrypted.reason };
  // What the sender said: an OMEMO 2 envelope's content, else the stanza (0.3 encrypts the body alone).
  const said = decrypted?.encryption === 'omemo2' ? xml('message', {}, ...(decrypted.content ?? [])) : stanza;
  // Before the body: a retraction carries a fallback body for clients that do not know it.
  const relation = parseRelationEvent(said);
  if (relation?.kind === 'rejected') return relation;
  if (relation) return { kind: 'event', event: { ...ids, ...relation } };

  const text = decrypted ? decrypted.body : stanza.getChildText('body');
  if (text === null || text.trim() === '') return { kind: 'ignored', reason: 'no body' };
  const replaces = parseCorrection(said);
  const { body, replyTo } = parseReply(said, text);
  return {
    kind: 'chat',
    record: {
      ...ids,
      direction,
      body,
      ...(replaces ? { replaces } : {}),
      ...(replyTo ? { replyTo } : {}),
      state: direction === 'out' ? 'sent' : 'received',
      ...(decrypted ? { encryption: decrypted.encryption } : {}),
      ...(decrypted?.senderDevice !== undefined ? { senderDevice: decrypted.senderDevice } : {}),
      ...(decrypted?.kind === 'failed' ? { undecryptable: true as const } : {}),
      ...(direction === 'in' && id && stanza.getChild('markable', NS_MARKERS) ? { markable: true } : {}),
    },
    replyTo: from.full,
    receiptRequested: direction === 'in' && Boolean(stanza.getChild('request', NS_RECEIPTS)) && Boolean(id),
    timedBy: timing.timedBy,
  };
}

/**
 * What a bounce does to our message: failed, except that a full offline queue
 * (resource-constraint, as ejabberd bounces beyond its offline limit) loses nothing where our
 * server archives messages: the recipient reads it from the archive when they catch up.
 */
export function bounceOutcome(condition: string | undefined, serverArchives: boolean): 'failed' | 'archived' {
  return condition === 'resource-constraint' && serverArchives ? 'archived' : 'failed';
}

/**
 * An outgoing chat message; `id` doubles as origin-id so every copy can be matched. A reply
 * quotes what it answers (`quoted`) for clients that do not know replies.
 */
export function chatMessage(to: string, id: string, body: string, reply?: ReplyRef & { quoted: string }): Element {
  const { text, quoteEnd } = reply ? replyBody(reply.quoted, body) : { text: body, quoteEnd: 0 };
  return xml(
    'message',
    { type: 'chat', to, id },
    xml('body', {}, text),
    ...(reply ? replyElements(reply, quoteEnd) : []),
    xml('origin-id', { xmlns: NS_SID, id }),
    xml('request', { xmlns: NS_RECEIPTS }),
    xml('markable', { xmlns: NS_MARKERS }),
    activeState(),
  );
}

export function receiptFor(to: string, messageId: string): Element {
  return xml('message', { to, id: `r-${messageId}` }, xml('received', { xmlns: NS_RECEIPTS, id: messageId }));
}

export const enableCarbons = () => xml('enable', { xmlns: NS_CARBONS });
