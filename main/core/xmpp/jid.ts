// Small, total JID helpers for parsers: a malformed address yields null, never a throw.
export type ParsedJid = { local: string; domain: string; resource: string; bare: string; full: string };

export function parseJid(value: string | undefined | null): ParsedJid | null {
  if (!value || value.length > 3071) return null;
  const slash = value.indexOf('/');
  const bareText = slash === -1 ? value : value.slice(0, slash);
  const resource = slash === -1 ? '' : value.slice(slash + 1);
  const at = bareText.indexOf('@');
  const local = at === -1 ? '' : bareText.slice(0, at);
  const domain = (at === -1 ? bareText : bareText.slice(at + 1)).toLowerCase();
  if (!domain || domain.includes('@') || (at !== -1 && !local) || (slash !== -1 && !resource)) return null;
  const bare = local ? `${local.toLowerCase()}@${domain}` : domain;
  return { local: local.toLowerCase(), domain, resource, bare, full: resource ? `${bare}/${resource}` : bare };
}

export function bareJid(value: string | undefined | null): string | null {
  return parseJid(value)?.bare ?? null;
}

// RFC 7622: each part at most 1023 octets; these characters are never in a localpart.
const MAX_PART_BYTES = 1023;
const LOCALPART_FORBIDDEN = /["&'/:<>@\s]/u;
// Controls, and the bidirectional overrides and isolates that make an address read as another.
const DECEPTIVE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/**
 * Why a JID built from decoded parts (a link, a form) is not one a user should be shown, or null
 * when it is fine. Stricter than `parseJid`, which only has to be total for stanzas.
 */
export function jidPartsProblem(parts: { local: string; domain: string; resource: string }): string | null {
  const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
  if (!parts.domain) return 'The address has no server.';
  for (const [name, part] of [['name', parts.local], ['server', parts.domain], ['resource', parts.resource]] as const) {
    if (bytes(part) > MAX_PART_BYTES) return `The address’s ${name} part is too long.`;
    if (DECEPTIVE.test(part)) return `The address’s ${name} part contains invisible or control characters.`;
  }
  if (LOCALPART_FORBIDDEN.test(parts.local)) return 'The address’s name part contains characters an address cannot have.';
  if (/[\s@/]/u.test(parts.domain) || parts.domain.startsWith('.') || parts.domain.endsWith('.') || parts.domain.includes('..')) {
    return 'The address’s server part is not a server name.';
  }
  return null;
}
