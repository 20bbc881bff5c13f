// Relations between one-to-one messages: corrections (XEP-0308), replies (XEP-0461) with their
// fallback (XEP-0428), reactions (XEP-0444) and retractions (XEP-0424). Pure parsers of what a
// message names and builders of what we send. Who may apply what (only the author corrects or
// retracts) is checked against the stored message by the archive: the parser hands over the
// sender as the stanza proves it.
import xml, { type Element } from '@xmpp/xml';
import type { PendingEvent } from '../archive/archive';
import { parseJid } from './jid';
// Constants only, read when a stanza is built: the import circle with chat.ts is harmless.
import { NS_RECEIPTS, NS_SID } from './chat';
import { NS_HINTS } from './markers';

export const NS_CORRECT = 'urn:xmpp:message-correct:0';
export const NS_REPLY = 'urn:xmpp:reply:0';
export const NS_FALLBACK = 'urn:xmpp:fallback:0';
export const NS_REACTIONS = 'urn:xmpp:reactions:0';
export const NS_RETRACT = 'urn:xmpp:message-retract:1';
/** Retractions as clients sent them before XEP-0424 0.4, wrapped in a fastening (XEP-0422). */
export const NS_RETRACT_0 = 'urn:xmpp:message-retract:0';
export const NS_FASTEN = 'urn:xmpp:fasten:0';

export const RELATION_FEATURES = [NS_CORRECT, NS_REPLY, NS_REACTIONS, NS_RETRACT];

/** Different emojis one sender may put on one message; more is a flood, not an opinion. */
export const MAX_REACTIONS = 20;
/** `<reaction/>` elements we look at in one stanza at all. */
const MAX_REACTION_ELEMENTS = 100;
/** UTF-16 units of one emoji: the longest RGI sequences (tag flags, couples with skin tones) take 14 or 15. */
const MAX_EMOJI_LENGTH = 32;
/** Code points of a message we quote in a reply's fallback. */
const MAX_QUOTE = 300;

/** XEP-0424's words for clients that do not know retractions. */
export const RETRACTION_FALLBACK = '/me retracted a previous message, but it is unsupported by your client.';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const EMOJI_PARTS = /^[\p{Emoji}\p{Emoji_Component}\p{Extended_Pictographic}\u200D\uFE0F\u20E3]+$/u;
/** A picture, a flag (two regional indicators) or a keycap: what makes the emoji code points one emoji. */
const PICTURE = /\p{Extended_Pictographic}|\p{Regional_Indicator}{2}|\u20E3/u;

/** One emoji (a single grapheme made of emoji code points, a picture among them), as XEP-0444 asks of a reaction. */
export function isEmoji(text: string): boolean {
  if (text.length === 0 || text.length > MAX_EMOJI_LENGTH || !EMOJI_PARTS.test(text) || !PICTURE.test(text)) return false;
  let count = 0;
  for (const _ of graphemes.segment(text)) if (++count > 1) return false;
  return true;
}

/** An id another message names: anything longer than this is no id but a payload. */
function ref(value: string | undefined): string | undefined {
  return value && value.length <= 1024 ? value : undefined;
}

export type RelationEvent = { kind: 'reaction'; target: string; emojis: string[] } | { kind: 'retraction'; target: string };

/**
 * A reaction or retraction the stanza carries; undefined when it carries neither. Reactions
 * that are no emoji are left out; a stanza with nothing but such garbage, or with a flood of
 * them, is rejected rather than read as taking every reaction back.
 */
export function parseRelationEvent(stanza: Element): RelationEvent | { kind: 'rejected'; reason: string } | undefined {
  const reactions = stanza.getChild('reactions', NS_REACTIONS);
  if (reactions) {
    const target = ref(reactions.attrs.id);
    if (!target) return { kind: 'rejected', reason: 'reactions without an id' };
    const items = reactions.getChildren('reaction');
    if (items.length > MAX_REACTION_ELEMENTS) return { kind: 'rejected', reason: `${items.length} reactions in one stanza` };
    const emojis = [...new Set(items.map((item) => item.text().trim()).filter(isEmoji))];
    if (items.length > 0 && emojis.length === 0) return { kind: 'rejected', reason: 'reactions that are no emoji' };
    if (emojis.length > MAX_REACTIONS) return { kind: 'rejected', reason: `${emojis.length} different reactions to one message` };
    return { kind: 'reaction', target, emojis };
  }
  const retract = ref(
    stanza.getChild('retract', NS_RETRACT)?.attrs.id ?? stanza.getChildren('apply-to', NS_FASTEN).find((el) => el.getChild('retract', NS_RETRACT_0))?.attrs.id,
  );
  if (retract) return { kind: 'retraction', target: retract };
  return undefined;
}

/** The id of the message this one corrects (XEP-0308), if it is a correction. */
export function parseCorrection(stanza: Element): string | undefined {
  return ref(stanza.getChild('replace', NS_CORRECT)?.attrs.id);
}

export type ReplyRef = { id: string; to?: string };

/**
 * The message a reply answers (XEP-0461), and the body without the quote its fallback marks.
 * Only the ranges a fallback `for` replies marks are cut, and only when every one of them lies
 * within the body (XEP-0426 counts code points); otherwise the body stays whole.
 */
export function parseReply(stanza: Element, body: string): { body: string; replyTo?: ReplyRef } {
  const reply = stanza.getChild('reply', NS_REPLY);
  const id = ref(reply?.attrs.id);
  if (!reply || !id) return { body };
  const to = reply.attrs.to ? parseJid(reply.attrs.to)?.bare : undefined;
  return { body: withoutFallback(stanza, body, NS_REPLY), replyTo: { id, ...(to ? { to } : {}) } };
}

function withoutFallback(stanza: Element, body: string, forNs: string): string {
  const marks = stanza
    .getChildren('fallback', NS_FALLBACK)
    .filter((el) => el.attrs.for === forNs)
    .flatMap((el) => el.getChildren('body'));
  if (marks.length === 0) return body;
  const chars = Array.from(body);
  const ranges = marks.map((el) => ({ start: Number(el.attrs.start), end: Number(el.attrs.end) })).sort((a, b) => a.start - b.start);
  let reached = 0;
  for (const { start, end } of ranges) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < reached || end <= start || end > chars.length) return body;
    reached = end;
  }
  const kept = chars.filter((_, i) => !ranges.some(({ start, end }) => i >= start && i < end)).join('');
  return kept.trim() === '' ? body : kept;
}

/** Our reply's body: the quoted text as `> ` lines, then what we wrote; and where the quote ends in code points. */
export function replyBody(quoted: string, body: string): { text: string; quoteEnd: number } {
  const chars = Array.from(quoted.trim());
  const short = chars.length > MAX_QUOTE ? `${chars.slice(0, MAX_QUOTE).join('')}…` : chars.join('');
  const quote = short ? `${short.split('\n').map((line) => `> ${line}`).join('\n')}\n` : '';
  return { text: quote + body, quoteEnd: Array.from(quote).length };
}

/** What a reply adds to our message: the reference, and the fallback marking the quote (when there is one). */
export function replyElements(reply: ReplyRef, quoteEnd: number): Element[] {
  return [
    xml('reply', { xmlns: NS_REPLY, id: reply.id, ...(reply.to ? { to: reply.to } : {}) }),
    ...(quoteEnd > 0 ? [xml('fallback', { xmlns: NS_FALLBACK, for: NS_REPLY }, xml('body', { start: '0', end: String(quoteEnd) }))] : []),
  ];
}

/**
 * The stanza for a relation of ours. Corrections read like messages (a receipt asked for);
 * reactions and retractions carry the store hint so our and their archives keep them (XEP-0334),
 * and a retraction the fallback text XEP-0424 asks for.
 */
export function relationMessage(event: PendingEvent): Element {
  const { peer, id, target } = event;
  const originId = xml('origin-id', { xmlns: NS_SID, id });
  switch (event.kind) {
    case 'correction':
      return xml(
        'message',
        { type: 'chat', to: peer, id },
        xml('body', {}, event.payload),
        xml('replace', { xmlns: NS_CORRECT, id: target }),
        originId,
        xml('request', { xmlns: NS_RECEIPTS }),
      );
    case 'reaction':
      return xml(
        'message',
        { type: 'chat', to: peer, id },
        xml('reactions', { xmlns: NS_REACTIONS, id: target }, ...(JSON.parse(event.payload) as string[]).map((emoji) => xml('reaction', {}, emoji))),
        originId,
        xml('store', { xmlns: NS_HINTS }),
      );
    case 'retraction':
      return xml(
        'message',
        { type: 'chat', to: peer, id },
        xml('retract', { xmlns: NS_RETRACT, id: target }),
        xml('fallback', { xmlns: NS_FALLBACK, for: NS_RETRACT }),
        xml('body', {}, RETRACTION_FALLBACK),
        originId,
        xml('store', { xmlns: NS_HINTS }),
      );
  }
}
