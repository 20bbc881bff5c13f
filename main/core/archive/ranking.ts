// Relevance ranking of the newest matches of a search. FTS5's bm25() counts, for every query
// term, the documents that hold it by reading the term's whole doclist, so for a common word
// it costs time in proportion to the archive (~20 ms for "the" at 200k messages), however
// few rows are ranked. Here BM25 runs over the window alone, with its statistics taken from
// the window: the same shape of score, at a cost bounded by the window.
import { parseSearch } from './fts-query';
import { searchText } from './search-text';

const K1 = 1.2;
const B = 0.75;

/** Text as comparable tokens: case and accents folded, CJK and symbols one per token, like the index. */
export function tokens(text: string): string[] {
  // Plain ASCII, most of what is ranked, needs no folding beyond case.
  const folded = /[^\x00-\x7f]/.test(text) ? searchText(text).normalize('NFKD').replace(/\p{M}/gu, '') : text;
  return folded
    .toLowerCase()
    .split(/[^\p{L}\p{N}\p{Co}\p{So}]+/u)
    .filter(Boolean);
}

/** The tokens a search asks for (excluded terms aside); a prefix term's last token matches as a prefix. */
export function queryTokens(input: string): Array<{ token: string; prefix: boolean }> {
  const wanted = new Map<string, boolean>();
  for (const term of parseSearch(input).flat()) {
    if (term.negated) continue;
    const parts = tokens(term.text);
    parts.forEach((token, i) => wanted.set(token, (wanted.get(token) ?? false) || (term.prefix && i === parts.length - 1)));
  }
  return [...wanted].map(([token, prefix]) => ({ token, prefix }));
}

/** The ids of `docs` (newest first) ordered by BM25 for `input`; ties keep the newer first. */
export function rankByRelevance(input: string, docs: Array<{ id: number; body: string }>): number[] {
  const wanted = queryTokens(input);
  const docTokens = docs.map((doc) => tokens(doc.body));
  const averageLength = docTokens.reduce((sum, t) => sum + t.length, 0) / Math.max(1, docTokens.length);
  const counts = docTokens.map((list) => wanted.map(({ token, prefix }) => list.filter((t) => (prefix ? t.startsWith(token) : t === token)).length));
  const idf = wanted.map((_, w) => {
    const holding = counts.filter((c) => c[w]! > 0).length;
    return Math.log(1 + (docs.length - holding + 0.5) / (holding + 0.5));
  });
  const scores = counts.map((c, d) => {
    const norm = K1 * (1 - B + (B * docTokens[d]!.length) / (averageLength || 1));
    return c.reduce((sum, f, w) => sum + (idf[w]! * f * (K1 + 1)) / (f + norm), 0);
  });
  return docs
    .map((doc, d) => ({ id: doc.id, score: scores[d]!, d }))
    .sort((x, y) => y.score - x.score || x.d - y.d)
    .map((ranked) => ranked.id);
}
