// How message text is cut into search tokens, shared by the index (through an SQL function)
// and by the query builder, so both sides always agree.
//
// The index depends on this function: changing what it returns needs a migration that
// rebuilds `messages_fts`.

/**
 * Characters that are tokens on their own: scripts written without spaces between words
 * (Han, kana, Hangul) and symbols such as emoji. Each is fenced with zero-width spaces, which
 * the unicode61 tokenizer treats as separators, so 東京 is found inside 東京都 (as the phrase
 * 東 京) and 🎉 inside "🎉party". Only invisible characters are added, so a snippet of the
 * indexed text reads like the original once they are taken out again.
 */
const SOLO = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{So}]/gu;
const FENCE = '\u200B';

export function searchText(text: string): string {
  return text.replace(SOLO, `${FENCE}$&${FENCE}`);
}

/** Takes the fences back out of indexed text (a snippet). */
export function unfence(text: string): string {
  return text.replaceAll(FENCE, '');
}

/**
 * Whether `text` holds a character the tokenizer of `messages_fts` keeps (letters, numbers,
 * private use, symbols); a term without one matches nothing.
 */
export function hasTokens(text: string): boolean {
  return /[\p{L}\p{N}\p{Co}\p{So}]/u.test(text);
}

/**
 * A token standing for one of a message's ids (origin-id, id, stanza-id): 64 bits of two FNV-1a lanes in
 * base 36. Ids may hold any characters; the token is one word the tokenizer keeps whole.
 * Lookups verify the row, so a collision costs a comparison, never a wrong match.
 */
export function refToken(id: string): string {
  let a = 0x811c9dc5;
  let b = 0x2f6b1d3a;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return `r${(a >>> 0).toString(36)}x${(b >>> 0).toString(36)}`;
}

/** The scope column of `messages_fts`: conversation, sender, and a token for each of the message's ids. */
export function scopeText(conversationId: number, sender: string, ids: Array<string | null>): string {
  const refs = [...new Set(ids.filter((id) => id !== null))].map(refToken);
  return [`c${conversationId}`, sender, ...refs].join(' ');
}
