// Message styling (XEP-0393) and links, parsed into a tree the window renders as elements and
// text nodes it builds itself; nothing here is ever HTML. Linear in the body's length whatever
// the input (unbalanced markers, deep quotes), so a hostile body cannot stall the window.

export type SpanKind = 'strong' | 'emphasis' | 'strike';

export type Span =
  | { kind: 'text'; text: string }
  /** A styling directive itself: shown (dimmed) as the XEP recommends, not dropped. */
  | { kind: 'marker'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'code'; text: string }
  | { kind: SpanKind; children: Span[] };

export type Block =
  | { kind: 'line'; spans: Span[] }
  /** A ``` block: `fence` is its opening line, `close` its closing one when there is one. */
  | { kind: 'pre'; fence: string; text: string; close?: string }
  | { kind: 'quote'; blocks: Block[] };

/** Deeper quotes are shown as text: nested boxes past this depth help nobody and cost a stack. */
export const MAX_QUOTE_DEPTH = 8;

const SPAN_KINDS: Record<string, SpanKind | 'code'> = { '*': 'strong', _: 'emphasis', '~': 'strike', '`': 'code' };
const isSpace = (c: string | undefined) => c !== undefined && /[\s\p{Z}]/u.test(c);

type Line = { start: number; end: number };

/** Parses `body` into blocks (plain lines, preformatted blocks, quotes) with their spans. */
export function parseStyling(body: string): Block[] {
  const lines: Line[] = [];
  let start = 0;
  for (;;) {
    const nl = body.indexOf('\n', start);
    if (nl < 0) {
      lines.push({ start, end: body.length });
      break;
    }
    lines.push({ start, end: nl });
    start = nl + 1;
  }
  return parseBlocks(body, lines, 0);
}

function parseBlocks(s: string, lines: Line[], depth: number): Block[] {
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (s.startsWith('```', line.start) && line.start + 3 <= line.end) {
      // Runs to a line of exactly three grave accents or the end of the parent block.
      let j = i + 1;
      while (j < lines.length && s.slice(lines[j]!.start, lines[j]!.end) !== '```') j++;
      // Inside a quote each line starts after its '>': rebuilt from the pieces.
      const text = lines.slice(i + 1, j).map((l) => s.slice(l.start, l.end)).join('\n');
      out.push({ kind: 'pre', fence: s.slice(line.start, line.end), text, ...(j < lines.length ? { close: '```' } : {}) });
      i = j + 1;
    } else if (s[line.start] === '>' && depth < MAX_QUOTE_DEPTH) {
      const inner: Line[] = [];
      while (i < lines.length && s[lines[i]!.start] === '>') {
        const l = lines[i]!;
        // The first leading whitespace character after the '>' is trimmed.
        const from = l.start + 1 < l.end && isSpace(s[l.start + 1]) ? l.start + 2 : l.start + 1;
        inner.push({ start: Math.min(from, l.end), end: l.end });
        i++;
      }
      out.push({ kind: 'quote', blocks: parseBlocks(s, inner, depth + 1) });
    } else {
      out.push({ kind: 'line', spans: parseSpans(s.slice(line.start, line.end)) });
      i++;
    }
  }
  return out;
}

// A link: one of the four schemes, up to whitespace. Trailing punctuation is the sentence's.
const LINK = /(?<![\p{L}\p{N}])(?:https?:\/\/|xmpp:|mailto:)[^\s<>"'`]+/giu;
const TRAILING = /[.,;:!?*_~)\]}]+$/u;

/** Link ranges of one line: [start, end) pairs, with trailing punctuation left out. */
export function findLinks(line: string): Array<{ start: number; end: number; href: string }> {
  const found: Array<{ start: number; end: number; href: string }> = [];
  for (const match of line.matchAll(LINK)) {
    let text = match[0];
    const trail = TRAILING.exec(text);
    if (trail) {
      // Keep closing brackets that close one opened inside the link (wiki-style URLs).
      let keep = text.slice(0, trail.index);
      for (const c of trail[0]) {
        const open = c === ')' ? '(' : c === ']' ? '[' : c === '}' ? '{' : undefined;
        if (open && count(keep, open) > count(keep, c)) keep += c;
        else break;
      }
      text = keep;
    }
    if (/^(?:https?:\/\/|xmpp:|mailto:)$/iu.test(text)) continue;
    found.push({ start: match.index, end: match.index + text.length, href: text });
  }
  return found;
}

const count = (s: string, c: string) => s.split(c).length - 1;

/** Spans of one plain line. Spans are lazily matched and never cross a line. */
export function parseSpans(line: string): Span[] {
  const n = line.length;
  const links = findLinks(line);
  // Which positions lie inside a link: directives there are not directives.
  const linkAt = new Int32Array(n + 1).fill(-1);
  links.forEach((l, k) => linkAt.fill(k, l.start, l.end));
  const directive = (i: number) => linkAt[i] === -1 && SPAN_KINDS[line[i]!] !== undefined;
  // An opening directive is at the line's start, after whitespace or after another opening
  // directive, and is not followed by whitespace.
  const openable = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!directive(i)) continue;
    const atBoundary = i === 0 || isSpace(line[i - 1]) || (directive(i - 1) && openable[i - 1] === 1);
    if (atBoundary) openable[i] = 1;
  }
  // Where the run of one character starting at i ends: a span needs some text that is not
  // its own directive ("**" and "****" style nothing).
  const runEnd = new Int32Array(n + 1).fill(n);
  for (let i = n - 2; i >= 0; i--) runEnd[i] = line[i] === line[i + 1] ? runEnd[i + 1]! : i + 1;
  // For each directive character, the first valid closing position at or after i (not
  // preceded by whitespace): the lazy match, found in O(1).
  const nextClose: Record<string, Int32Array> = {};
  for (const c of Object.keys(SPAN_KINDS)) {
    const next = new Int32Array(n + 2).fill(n);
    for (let i = n - 1; i >= 0; i--) next[i] = line[i] === c && directive(i) && i > 0 && !isSpace(line[i - 1]) ? i : next[i + 1]!;
    nextClose[c] = next;
  }

  function plain(from: number, to: number, out: Span[]) {
    let at = from;
    while (at < to) {
      const k = linkAt[at]!;
      if (k >= 0) {
        const l = links[k]!;
        out.push({ kind: 'link', text: line.slice(l.start, l.end), href: l.href });
        at = l.end;
      } else {
        let end = at;
        while (end < to && linkAt[end] === -1) end++;
        out.push({ kind: 'text', text: line.slice(at, end) });
        at = end;
      }
    }
  }

  function spans(from: number, to: number, allowed: Set<SpanKind>): Span[] {
    const out: Span[] = [];
    let textFrom = from;
    let i = from;
    while (i < to) {
      const c = line[i]!;
      const kind = openable[i] && i + 1 < to && !isSpace(line[i + 1]) ? SPAN_KINDS[c] : undefined;
      if (kind && (kind === 'code' || allowed.has(kind))) {
        const close = nextClose[c]![runEnd[i]! + 1]!;
        if (close < to) {
          plain(textFrom, i, out);
          if (kind === 'code') out.push({ kind: 'code', text: line.slice(i, close + 1) });
          else {
            const inner = new Set(allowed);
            inner.delete(kind);
            out.push({ kind, children: [{ kind: 'marker', text: c }, ...spans(i + 1, close, inner), { kind: 'marker', text: c }] });
          }
          i = close + 1;
          textFrom = i;
          continue;
        }
      }
      i++;
    }
    plain(textFrom, to, out);
    return out;
  }

  return spans(0, n, new Set<SpanKind>(['strong', 'emphasis', 'strike']));
}

/** A `/me` message (XEP-0245): the action text, or undefined for an ordinary message. */
export function meAction(body: string): string | undefined {
  return body.startsWith('/me ') ? body.slice(4) : undefined;
}

/** Beyond either limit a body is shown collapsed, behind "Show more". */
export const COLLAPSE_LINES = 25;
export const COLLAPSE_CHARS = 3000;
const PREVIEW_LINES = 15;
const PREVIEW_CHARS = 1500;

/** The start of a long body to show collapsed, or undefined when it is short enough to show whole. */
export function collapsedPreview(body: string): string | undefined {
  let lines = 1;
  let previewEnd = -1;
  for (let at = body.indexOf('\n'); at >= 0 && lines <= COLLAPSE_LINES; at = body.indexOf('\n', at + 1)) {
    if (lines === PREVIEW_LINES) previewEnd = at;
    lines++;
  }
  if (lines <= COLLAPSE_LINES && body.length <= COLLAPSE_CHARS) return undefined;
  const end = Math.min(previewEnd >= 0 ? previewEnd : body.length, PREVIEW_CHARS);
  // Do not cut a surrogate pair in half.
  const code = body.charCodeAt(end - 1);
  return body.slice(0, code >= 0xd800 && code <= 0xdbff ? end - 1 : end);
}
