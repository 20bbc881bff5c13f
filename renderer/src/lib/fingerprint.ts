// OMEMO fingerprints as people compare them: the 64 hex digits of an identity key in groups
// of eight, lower case, as Conversations and Gajim show them, so two screens can be read
// side by side group by group.

/** The fingerprint in groups of eight hex digits; an odd tail stays a short last group. */
export function fingerprintGroups(hex: string): string[] {
  const clean = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  const groups: string[] = [];
  for (let at = 0; at < clean.length; at += 8) groups.push(clean.slice(at, at + 8));
  return groups;
}

/** The fingerprint on one line, groups separated by spaces (for copying and for screen readers). */
export function formatFingerprint(hex: string): string {
  return fingerprintGroups(hex).join(' ');
}
