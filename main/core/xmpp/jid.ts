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
