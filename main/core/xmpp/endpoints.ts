// Where to connect for an account: the user's host override, else DNS SRV records
// (RFC 6120 §3.2, XEP-0368 direct TLS preferred at equal priority), else the domain itself;
// and where a server's redirect (see-other-host) may take us.
export type Endpoint = { host: string; port: number; directTls: boolean };

export type SrvRecord = { name: string; port: number; priority: number; weight: number };
export type SrvResolver = (name: string) => Promise<SrvRecord[]>;

export type EndpointRequest = { domain: string; host?: string; port?: number };

const DEFAULT_PORT = 5222;
/** Ports where servers conventionally speak TLS from the first byte (XEP-0368's usual 5223, and 443). */
const DIRECT_TLS_PORTS = new Set([5223, 443]);

/** The xmpp.js service URI of an endpoint. */
export function serviceFor(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.directTls ? 'xmpps' : 'xmpp'}://${host}:${endpoint.port}`;
}

/**
 * A host override names a host and port but not how TLS starts there: try the way the port
 * suggests first (direct TLS on 5223 and 443, STARTTLS elsewhere), then the other. Either way
 * TLS comes first: a STARTTLS stream that does not offer it is refused.
 */
function overrideEndpoints(host: string, port: number): Endpoint[] {
  const directFirst = DIRECT_TLS_PORTS.has(port);
  return [
    { host, port, directTls: directFirst },
    { host, port, directTls: !directFirst },
  ];
}

/**
 * Where a `<see-other-host/>` may take us (RFC 6120 §4.9.3.19), or why not: only to the
 * account's domain or a host under it (an IP address cannot be vouched for), the same way
 * TLS starts as now, on the port it names or the current one. The certificate is checked
 * against the account's domain there too.
 */
export function redirectTarget(text: string, domain: string, current: Endpoint): Endpoint | string {
  const match = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match) return 'it is not a host name';
  const host = match[1]!.toLowerCase().replace(/\.$/, '');
  const port = match[2] ? Number(match[2]) : current.port;
  if (port < 1 || port > 65535) return 'its port is out of range';
  const ours = domain.toLowerCase();
  if (host !== ours && !host.endsWith(`.${ours}`)) return `it is not part of ${domain}`;
  return { host, port, directTls: current.directTls };
}

/** Orders SRV answers: lowest priority first, direct TLS before STARTTLS, then heavier weight. */
export function orderSrv(records: Array<SrvRecord & { directTls: boolean }>): Endpoint[] {
  return records
    .filter((r) => r.name !== '.' && r.name !== '') // "." means the service is decidedly not offered
    .sort((a, b) => a.priority - b.priority || Number(b.directTls) - Number(a.directTls) || b.weight - a.weight)
    .map((r) => ({ host: r.name, port: r.port, directTls: r.directTls }));
}

export async function resolveEndpoints(request: EndpointRequest, resolveSrv: SrvResolver): Promise<Endpoint[]> {
  if (request.host) return overrideEndpoints(request.host, request.port ?? DEFAULT_PORT);
  const lookup = async (service: string, directTls: boolean) => {
    try {
      return (await resolveSrv(`${service}.${request.domain}`)).map((r) => ({ ...r, directTls }));
    } catch {
      return []; // no record (or DNS trouble): fall back below
    }
  };
  const [tlsRecords, plainRecords] = await Promise.all([
    lookup('_xmpps-client._tcp', true),
    lookup('_xmpp-client._tcp', false),
  ]);
  const ordered = orderSrv([...tlsRecords, ...plainRecords]);
  return ordered.length ? ordered : [{ host: request.domain, port: request.port ?? DEFAULT_PORT, directTls: false }];
}
