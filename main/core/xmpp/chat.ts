// One-to-one messages: parse what arrives (live or as a carbon, XEP-0280), with origin
// checks, stanza/origin ids (XEP-0359), delayed delivery (XEP-0203), receipts (XEP-0184)
// and displayed markers (XEP-0333); build what we send.
import xml, { type Element } from '@xmpp/xml';
import type { MessageRecord } from '../archive/archive';
import { parseJid } from './jid';
import { NS_MARKERS, parseDisplayed } from './markers';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_SID = 'urn:xmpp:sid:0';
const NS_DELAY = 'urn:xmpp:delay';
export const NS_RECEIPTS = 'urn:xmpp:receipts';

export type ChatContext = { ownBareJid: string; now: number };

export type ParsedMessage =
  | { kind: 'chat'; record: MessageRecord; replyTo: string; receiptRequested: boolean }
  | { kind: 'receipt'; peer: string; messageId: string }
  /** `in`: the peer displayed our messages up to `messageId`; `out`: one of my devices displayed theirs. */
  | { kind: 'displayed'; peer: string; messageId: string; direction: 'in' | 'out' }
  | { kind: 'error'; peer: string; messageId: string; text: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'rejected'; reason: string };

function parseStamp(stanza: Element): number | undefined {
  const stamp = stanza.getChild('delay', NS_DELAY)?.attrs.stamp;
  if (!stamp) return undefined;
  const ms = Date.parse(stamp);
  return Number.isFinite(ms) ? ms : undefined;
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

function errorText(error: Element | undefined): string {
  const text = error?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')?.trim();
  const condition = error?.getChildElements().find((c) => c.getNS() === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text')?.name;
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
    return parseDirect(inner, ctx, carbon.name === 'sent' ? 'out' : 'in', parseStamp(stanza) ?? parseStamp(carbon.getChild('forwarded', NS_FORWARD)!));
  }
  return parseDirect(stanza, ctx, 'in', undefined);
}

/**
 * A message as stored in our own archive (MAM): outgoing when we sent it, with the
 * archive's id as its stanza-id and the archive's timestamp unless the message has its own.
 */
export function parseArchivedMessage(inner: Element, ctx: ChatContext, stanzaId: { id: string; by: string }, stamp: number): ParsedMessage {
  const fromBare = parseJid(inner.attrs.from ?? ctx.ownBareJid)?.bare;
  const parsed = parseDirect(inner, ctx, fromBare === ctx.ownBareJid ? 'out' : 'in', stamp);
  return parsed.kind === 'chat' ? { ...parsed, record: { ...parsed.record, stanzaId } } : parsed;
}

function parseDirect(stanza: Element, ctx: ChatContext, direction: 'in' | 'out', outerStamp: number | undefined): ParsedMessage {
  const from = parseJid(stanza.attrs.from ?? ctx.ownBareJid);
  const to = parseJid(stanza.attrs.to ?? ctx.ownBareJid);
  if (!from || !to) return { kind: 'rejected', reason: 'message with a malformed address' };
  if (direction === 'out' && from.bare !== ctx.ownBareJid) return { kind: 'rejected', reason: 'sent carbon not from our account' };
  const peer = direction === 'out' ? to.bare : from.bare;
  const type = stanza.attrs.type ?? 'normal';
  const id = stanza.attrs.id;

  if (type === 'error') {
    if (!id) return { kind: 'ignored', reason: 'error without id' };
    return { kind: 'error', peer, messageId: id, text: errorText(stanza.getChild('error')) };
  }
  const receipt = stanza.getChild('received', NS_RECEIPTS);
  if (receipt?.attrs.id && direction === 'in') return { kind: 'receipt', peer, messageId: receipt.attrs.id };
  // A marker travels alone (XEP-0333 §5); should one ride along with a body, the body wins.
  // Group chat markers are the room's business, not handled here.
  const displayed = parseDisplayed(stanza);
  if (displayed && type !== 'groupchat' && !stanza.getChild('body')) return { kind: 'displayed', peer, messageId: displayed, direction };
  if (type !== 'chat' && type !== 'normal') return { kind: 'ignored', reason: `message type ${type}` };

  const body = stanza.getChildText('body');
  if (body === null || body.trim() === '') return { kind: 'ignored', reason: 'no body' };

  // A stanza-id counts only when our own archive stamped it (XEP-0359 §3.1).
  const stanzaIdEl = stanza.getChildren('stanza-id', NS_SID).find((el) => el.attrs.by === ctx.ownBareJid && el.attrs.id);
  const originId = stanza.getChild('origin-id', NS_SID)?.attrs.id;
  return {
    kind: 'chat',
    record: {
      peer,
      direction,
      sender: from.bare,
      ...(id ? { messageId: id } : {}),
      ...(originId ? { originId } : {}),
      ...(stanzaIdEl ? { stanzaId: { id: stanzaIdEl.attrs.id!, by: ctx.ownBareJid } } : {}),
      body,
      ts: parseStamp(stanza) ?? outerStamp ?? ctx.now,
      state: direction === 'out' ? 'sent' : 'received',
      ...(direction === 'in' && id && stanza.getChild('markable', NS_MARKERS) ? { markable: true } : {}),
    },
    replyTo: from.full,
    receiptRequested: direction === 'in' && Boolean(stanza.getChild('request', NS_RECEIPTS)) && Boolean(id),
  };
}

/** An outgoing chat message; `id` doubles as origin-id so every copy can be matched. */
export function chatMessage(to: string, id: string, body: string): Element {
  return xml(
    'message',
    { type: 'chat', to, id },
    xml('body', {}, body),
    xml('origin-id', { xmlns: NS_SID, id }),
    xml('request', { xmlns: NS_RECEIPTS }),
    xml('markable', { xmlns: NS_MARKERS }),
  );
}

export function receiptFor(to: string, messageId: string): Element {
  return xml('message', { to, id: `r-${messageId}` }, xml('received', { xmlns: NS_RECEIPTS, id: messageId }));
}

export const enableCarbons = () => xml('enable', { xmlns: NS_CARBONS });
