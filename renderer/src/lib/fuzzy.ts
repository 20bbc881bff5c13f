// Fuzzy filtering for the quick switcher: every character of the query, in order, somewhere
// in the text; ranked by how tight and how early the match is, word starts counting most.
export type FuzzyMatch = { score: number; positions: number[] };

const isWordStart = (text: string, i: number) => i === 0 || /[\s@._\-/]/.test(text[i - 1]!);

/** The best match of `query` in `text`, or null when some character is missing. Lower scores are better. */
export function fuzzyMatch(query: string, text: string): FuzzyMatch | null {
  const q = query.toLowerCase().replace(/\s+/g, '');
  if (!q) return { score: 0, positions: [] };
  const t = text.toLowerCase();
  // Greedy from each possible first position; the best of those is good enough for short names.
  let best: FuzzyMatch | null = null;
  for (let first = t.indexOf(q[0]!); first !== -1; first = t.indexOf(q[0]!, first + 1)) {
    const positions = [first];
    let at = first;
    for (let k = 1; k < q.length && at !== -1; k++) {
      // Prefer the next word start that has the character, else its next occurrence.
      let next = -1;
      for (let i = at + 1; i < t.length; i++) {
        if (t[i] !== q[k]) continue;
        if (next === -1) next = i;
        if (i === at + 1 || isWordStart(text, i)) {
          next = i;
          break;
        }
      }
      at = next;
      if (at !== -1) positions.push(at);
    }
    if (at === -1) break;
    let score = first;
    for (let k = 1; k < positions.length; k++) score += (positions[k]! - positions[k - 1]! - 1) * 2;
    score -= positions.filter((p) => isWordStart(text, p)).length * 3;
    if (t.startsWith(q)) score -= 10;
    if (!best || score < best.score) best = { score, positions };
  }
  return best;
}

/** The items whose text matches `query`, best first (ties keep their order). */
export function fuzzyFilter<T>(items: readonly T[], query: string, text: (item: T) => string): T[] {
  return items
    .map((item, index) => ({ item, index, match: fuzzyMatch(query, text(item)) }))
    .filter((x): x is { item: T; index: number; match: FuzzyMatch } => x.match !== null)
    .sort((a, b) => a.match.score - b.match.score || a.index - b.index)
    .map((x) => x.item);
}
