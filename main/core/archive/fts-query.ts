// Turns whatever a user types into a valid FTS5 query, and FTS5 snippets into plain segments.
// Every piece of user text ends up inside a double-quoted FTS5 string, so no input can reach
// the query syntax: quotes, stars, dashes, operators, CJK and emoji all parse.
import { hasTokens, searchText, unfence } from './search-text';

export type SearchTerm = { text: string; prefix: boolean; negated: boolean };

const MAX_INPUT = 256;
const MAX_TERMS = 16;

/**
 * Whether a starred term is searched as a prefix: its last word needs two characters or more.
 * A one-character prefix would merge the postings of a good part of the vocabulary (measured:
 * "t*" 200 ms at a million messages), so "t*" looks for the word "t".
 */
function isPrefix(text: string): boolean {
  const last = text.split(/[^\p{L}\p{N}\p{Co}\p{So}]+/u).filter(Boolean).at(-1) ?? '';
  return [...last].length >= 2;
}

/**
 * Reads the search box: words; "quoted phrases" (an unclosed quote runs to the end); a
 * trailing * for a prefix (of two characters or more); -word or NOT word to exclude; OR
 * between alternatives (AND is implied). Returns the alternatives, each a list of terms;
 * terms without letters, digits or symbols are dropped, since they could match nothing.
 */
export function parseSearch(input: string): SearchTerm[][] {
  // XML cannot carry control characters, so no message contains one; drop them from the query too.
  const text = input.slice(0, MAX_INPUT).replace(/\p{Cc}/gu, ' ');
  const groups: SearchTerm[][] = [[]];
  let negateNext = false;
  let count = 0;
  let i = 0;
  const push = (term: string, prefix: boolean) => {
    if (hasTokens(term) && count < MAX_TERMS) {
      groups.at(-1)!.push({ text: term, prefix, negated: negateNext });
      count++;
    }
    negateNext = false;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/u.test(ch)) {
      i++;
    } else if (ch === '"') {
      const close = text.indexOf('"', i + 1);
      const end = close === -1 ? text.length : close;
      const phrase = text.slice(i + 1, end);
      i = end + 1;
      const starred = text[i] === '*';
      if (starred) i++;
      push(phrase, starred && isPrefix(phrase));
    } else if ((ch === '-' || ch === '\u2212') && i + 1 < text.length && !/[\s-]/u.test(text[i + 1]!)) {
      negateNext = true;
      i++;
    } else {
      const match = /^[^\s"]+/u.exec(text.slice(i))![0];
      i += match.length;
      if (match === 'OR') {
        if (groups.at(-1)!.length > 0) groups.push([]);
        negateNext = false;
      } else if (match === 'NOT') {
        negateNext = true;
      } else if (match !== 'AND') {
        const word = match.replace(/\*+$/u, '');
        push(word, word.length < match.length && isPrefix(word));
      }
    }
  }
  return groups.filter((group) => group.some((term) => !term.negated));
}

/** A term as an FTS5 phrase on the body column; the text goes through the index's own tokenizing. */
function phrase(term: SearchTerm): string {
  return `body : "${searchText(term.text).replaceAll('"', '""')}"${term.prefix ? ' *' : ''}`;
}

/** The FTS5 MATCH expression for `input`, or null when it can match nothing. */
export function ftsMatch(input: string): string | null {
  const groups = parseSearch(input);
  if (groups.length === 0) return null;
  return groups
    .map((group) => {
      const wanted = group.filter((t) => !t.negated).map(phrase);
      const unwanted = group.filter((t) => t.negated).map(phrase);
      const all = `(${wanted.join(' AND ')})`;
      return unwanted.length > 0 ? `(${all} NOT (${unwanted.join(' OR ')}))` : all;
    })
    .join(' OR ');
}

/**
 * A phrase on the scope column (conversation or sender tokens), which is not fenced. Control
 * characters are separators here, as in typed queries: FTS5 reads a NUL as the end of the
 * query. The exact checks in the query still tell a look-alike sender apart.
 */
export function scopeMatch(value: string): string {
  return `scope : "${value.replace(/\p{Cc}/gu, ' ').replaceAll('"', '""')}"`;
}

export type SnippetSegment = { text: string; hit: boolean };

/** Snippet markers: control characters, which cannot occur in XMPP text. */
export const HIT_OPEN = '\u0002';
export const HIT_CLOSE = '\u0003';

/** Splits an FTS5 snippet made with HIT_OPEN/HIT_CLOSE into text and highlighted segments. */
export function parseSnippet(snippet: string): SnippetSegment[] {
  const segments: SnippetSegment[] = [];
  for (const [index, part] of snippet.split(new RegExp(`[${HIT_OPEN}${HIT_CLOSE}]`, 'u')).entries()) {
    const text = unfence(part);
    if (text) segments.push({ text, hit: index % 2 === 1 });
  }
  return segments;
}
