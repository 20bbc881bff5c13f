// `:shortcode:` completion in the composer: what is being typed before the caret, the emojis
// it could mean, and the text once one is picked. Pure functions of the text and the caret.
import { EMOJI, searchEmoji, type Emoji } from './emoji';

/** At least this many letters after the colon before anything is offered (":" alone is often punctuation). */
const MIN_LETTERS = 2;
const MAX_OFFERED = 8;

export type ShortcodeQuery = { start: number; end: number; query: string };

/**
 * The shortcode being typed when the caret is at `caret`: a colon at the start of the text or
 * after a space or an opening bracket, then letters, digits, `_`, `+` or `-` up to the caret.
 * A time ("at 10:30") or a link ("https://") is not one.
 */
export function shortcodeAt(text: string, caret: number): ShortcodeQuery | null {
  const before = text.slice(0, caret);
  const match = /(^|[\s([{])(:([a-z0-9_+-]*))$/i.exec(before);
  if (!match) return null;
  const query = match[3]!;
  if (query.length < MIN_LETTERS) return null;
  return { start: caret - match[2]!.length, end: caret, query: query.toLowerCase() };
}

/** The emojis a shortcode being typed could mean, best first. */
export function shortcodeMatches(query: string): Emoji[] {
  return searchEmoji(query, MAX_OFFERED);
}

/** Replaces the typed shortcode with the emoji (and a space), with the caret after it. */
export function applyShortcode(text: string, at: ShortcodeQuery, emoji: Emoji): { text: string; caret: number } {
  const insert = `${emoji.char} `;
  const after = text.slice(at.end);
  return { text: text.slice(0, at.start) + insert + after, caret: at.start + insert.length };
}

const BY_CODE = new Map(EMOJI.map((e) => [e.code, e]));

/** A complete `:code:` just typed before the caret, for an emoji we know: replaced at once. */
export function completedShortcode(text: string, caret: number): { text: string; caret: number } | null {
  const match = /(^|[\s([{]):([a-z0-9_+-]+):$/i.exec(text.slice(0, caret));
  const emoji = match ? BY_CODE.get(match[2]!.toLowerCase()) : undefined;
  if (!match || !emoji) return null;
  const start = caret - match[2]!.length - 2;
  return { text: text.slice(0, start) + emoji.char + text.slice(caret), caret: start + emoji.char.length };
}

/** Puts `insert` in place of the selection [start, end), with the caret after it (paste, picker). */
export function insertAt(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}

/**
 * What a paste puts in the composer: its plain text only (never HTML or files), with line
 * ends made `\n` and no NUL or other control characters but tab and newline.
 */
export function pastedText(plain: string): string {
  // eslint-disable-next-line no-control-regex
  return plain.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

type KeyPress = Pick<KeyboardEvent, 'key' | 'shiftKey' | 'altKey' | 'ctrlKey' | 'metaKey'>;

/**
 * Whether a key press sends the message. With `enterSends`, Enter does (Ctrl/Cmd+Enter too);
 * without it, only Ctrl/Cmd+Enter does and Enter is a new line. Shift+Enter is always a new line.
 */
export function sendsMessage(e: KeyPress, enterSends: boolean): boolean {
  if (e.key !== 'Enter' || e.shiftKey || e.altKey) return false;
  return enterSends || e.ctrlKey || e.metaKey;
}
