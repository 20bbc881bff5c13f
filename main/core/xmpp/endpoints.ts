// Where to connect for an account: the user's host override, else DNS SRV records
// (RFC 6120 §3.2, XEP-0368 direct TLS preferred at equal priority), else the domain itself.
export type Endpoint = { host: string; port: number; directTls: boolean };

export type SrvRecord = { name: string; port: number; priority: number; weight: number };
export type SrvResolver = (name: string) => Promise<SrvRecord[]>;

export type EndpointRequest = { domain: string; host?: string; port?: number };

const DEFAULT_PORT = 5222;

/** Orders SRV answers: lowest priority first, direct TLS before STARTTLS, then heavier weight. */
export function orderSrv(records: Array<SrvRecord & { directTls: boolean }>): Endpoint[] {
  return records
    .filter((r) => r.name !== '.' && r.name !== '') // "." means the service is decidedly not offered
    .sort((a, b) => a.priority - b.priority || Number(b.directTls) - Number(a.directTls) || b.weight - a.weight)
    .map((r) => ({ host: r.name, port: r.port, directTls: r.directTls }));
}

export async function resolveEndpoints(request: EndpointRequest, resolveSrv: SrvResolver): Promise<Endpoint[]> {
  if (request.host) return [{ host: request.host, port: request.port ?? DEFAULT_PORT, directTls: false }];
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
