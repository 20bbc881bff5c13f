// A throwaway Prosody for tests: its own temp dir, free loopback ports, a fresh CA and
// server certificate, accounts registered per run. Nothing here touches the system Prosody.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, makeCertificates, makeServerCertificate, readTail, run, terminate, waitForPort, unmetAckRequests, type AckExchange, type ServerOptions as XmppServerOptions, type XmppTestServer } from './server-kit';

// Re-exported for the tests that take them from here.
export { freePort, makeCertificates };

export type TestServer = XmppTestServer & {
  directTlsPort: number;
  /** The external component port (XEP-0114), when started with `component`. */
  componentPort?: number;
  /** Runs one admin console command (prosodyctl shell) and returns what it printed. */
  shell(command: string): Promise<string>;
  /** Ends every session of `jid` with a stream error, as the admin would from the server's shell. */
  closeSessions(jid: string, condition: string, text: string): Promise<void>;
  /** The server certificate it presents now. */
  certificate(): X509Certificate;
  /** Gives the server a new key and certificate (same CA) and restarts it. */
  renewCertificate(): Promise<void>;
};

type ServerOptions = XmppServerOptions & {
  storage?: 'internal' | 'sql';
  logLevel?: 'debug' | 'info';
  /** SASL mechanisms not to offer (e.g. every SCRAM, to be a server that offers only PLAIN). */
  disableSasl?: string[];
  /**
   * How Prosody stores passwords: `internal_hashed` (default) keeps SCRAM-SHA-1 keys and offers
   * SCRAM-SHA-1 alone; `internal_plain` keeps the password and offers SCRAM-SHA-256 too.
   */
  authentication?: 'internal_hashed' | 'internal_plain';
  /** Prosody's ssl `protocol`, e.g. "tlsv1_2" for TLS 1.2 alone (where it offers tls-unique channel binding). */
  tlsProtocol?: string;
  /** Paces what each client sends (mod_limits), e.g. "3kb/s", as a busy public server does; `unlimitedJids` are exempt. */
  c2sRate?: string;
  unlimitedJids?: string[];
  /** Lets clients create accounts in-band (XEP-0077); off by default, as on most public servers now. */
  allowRegistration?: boolean;
  /**
   * A group chat service (XEP-0045) at conference.<first domain>, with room archives
   * (mod_muc_mam, XEP-0313). Occupant-ids (XEP-0421) and self-ping answers (XEP-0410) are
   * built into Prosody 0.12's muc.
   */
  muc?: boolean;
  /**
   * An external component (XEP-0114) at `domain`, authenticated by `secret`: one connection that
   * may send from any JID of that domain (many room occupants without a client session each).
   */
  component?: { domain: string; secret: string };
};

function config(dir: string, port: number, directTlsPort: number, componentPort: number | undefined, domains: string[], options: ServerOptions): string {
  const protocol = options.tlsProtocol ? `, protocol = "${options.tlsProtocol}"` : '';
  const hosts = domains
    .map((d) => `VirtualHost "${d}"\n  ssl = { certificate = "${dir}/server.crt", key = "${dir}/server.key"${protocol} }\n`)
    .join('');
  return `
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_direct_tls_ports = { ${directTlsPort} }
-- Direct TLS (XEP-0368) does not use the VirtualHost ssl settings; it needs its own.
c2s_direct_tls_ssl = { certificate = "${dir}/server.crt", key = "${dir}/server.key"${protocol} }
s2s_ports = { }
${options.component ? `component_ports = { ${componentPort} }\ncomponent_interfaces = { "127.0.0.1" }` : ''}
admin_socket = "${dir}/admin.sock"
certificates = "${dir}/certs"
modules_enabled = { "roster", "saslauth", "tls", "disco", "carbons", "pep", "private", "blocklist", "vcard4", "vcard_legacy",
  "version", "uptime", "time", "ping", "mam", "smacks", "csi_simple", "offline", "posix", "admin_shell"${options.c2sRate ? ', "limits"' : ''}${options.allowRegistration ? ', "register"' : ''} }
modules_disabled = { "s2s" }
c2s_require_encryption = true
allow_registration = ${options.allowRegistration ? 'true' : 'false'}
authentication = "${options.authentication ?? 'internal_hashed'}"
${options.disableSasl ? `disable_sasl_mechanisms = { ${options.disableSasl.map((m) => `"${m}"`).join(', ')} }` : ''}
archive_expires_after = "never"
max_archive_query_results = 250
storage_archive_item_limit = 1000000
${options.c2sRate ? `limits = { c2s = { rate = "${options.c2sRate}"; burst = "1s" } }\nunlimited_jids = { ${(options.unlimitedJids ?? []).map((j) => `"${j}"`).join(', ')} }` : ''}
${options.storage === 'sql' ? `storage = "sql"\nsql = { driver = "SQLite3", database = "${dir}/prosody.sqlite" }` : ''}
log = { { levels = { min = "${options.logLevel ?? 'info'}" }, to = "file", filename = "${dir}/prosody.log" } }
${hosts}${options.muc ? `
Component "conference.${domains[0]}" "muc"
  modules_enabled = { "muc_mam" }
  muc_log_by_default = true
  muc_log_all_rooms = true
  muc_room_default_persistent = true
  muc_room_default_public = true
  restrict_room_creation = false
` : ''}${options.component ? `
Component "${options.component.domain}"
  component_secret = "${options.component.secret}"
` : ''}`;
}

export async function startProsody(options: ServerOptions = {}): Promise<TestServer> {
  const domains = options.domains ?? ['heron.test'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-prosody-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.mkdirSync(path.join(dir, 'certs'));
  await makeCertificates(dir, domains);
  const [port, directTlsPort] = [await freePort(), await freePort()];
  const componentPort = options.component ? await freePort() : undefined;
  const configFile = path.join(dir, 'prosody.cfg.lua');
  fs.writeFileSync(configFile, config(dir, port, directTlsPort, componentPort, domains, options));
  const logFile = path.join(dir, 'prosody.log');
  let child: ChildProcess | undefined;

  const server: TestServer = {
    name: 'Prosody',
    domain: domains[0]!,
    domains,
    host: '127.0.0.1',
    port,
    directTlsPort,
    ...(componentPort !== undefined ? { componentPort } : {}),
    caPem: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    dir,
    async register(local, password, domain = domains[0]!) {
      await run('prosodyctl', ['--config', configFile, 'register', local, domain, password]);
      return `${local}@${domain}`;
    },
    async shell(command) {
      return (await run('prosodyctl', ['--config', configFile, 'shell', command])).stdout;
    },
    async start() {
      child = spawn('prosody', ['--config', configFile, '-F'], { stdio: 'ignore' });
      await waitForPort(port, child, logFile, 'prosody');
      if (componentPort !== undefined) await waitForPort(componentPort, child, logFile, 'prosody');
    },
    async stop() {
      const running = child;
      child = undefined;
      await terminate(running);
    },
    async closeSessions(jid, condition, text) {
      const { stdout } = await run('prosodyctl', ['--config', configFile, 'shell', 'c2s', 'close', jid, text, condition]);
      if (!/Total: [1-9]/.test(stdout)) throw new Error(`no session of ${jid} to close: ${stdout}`);
    },
    certificate: () => new X509Certificate(fs.readFileSync(path.join(dir, 'server.crt'))),
    async renewCertificate() {
      await server.stop();
      await makeServerCertificate(dir, domains);
      await server.start();
    },
    log: () => readTail(logFile),
    ackShortfalls() {
      if (options.logLevel !== 'debug') throw new Error("Prosody logs stream-management counts at debug only: start it with logLevel 'debug'");
      return prosodyAckShortfalls(fs.readFileSync(logFile, 'utf8'));
    },
  };
  await server.start();
  return server;
}

/**
 * The requests for an ack (XEP-0198 <r/>, mod_smacks, debug) the client's answer counted
 * short (see `unmetAckRequests`). At "Sending <r> (inside timer, after send) … #queue=Q" Q
 * stanzas are unacknowledged; each answer logs "#queue = U (acked: D)", D being what it newly
 * acknowledged, so the counts add up per session.
 */
export function prosodyAckShortfalls(log: string): string[] {
  const sessions = new Map<string, { acked: number; queuedBeforeResuming?: number; events: AckExchange }>();
  const session = (id: string) => sessions.get(id) ?? sessions.set(id, { acked: 0, events: [] }).get(id)!;
  for (const line of log.split('\n')) {
    const asked = /^\S+ \S+ \S+ (\S+)\tdebug\tSending <r> \(inside timer, after send\).* #queue=(\d+)$/.exec(line);
    if (asked) {
      const s = session(asked[1]!);
      s.events.push({ request: { line: line.trim(), asked: s.acked + Number(asked[2]) } });
      continue;
    }
    const received = /^\S+ \S+ \S+ (\S+)\tdebug\tReceived\[c2s\]: (<\w+[^>]*>)/.exec(line);
    if (received) {
      // All but acks and the unavailable presence that closes the session count.
      if (!/^<a |^<presence type='unavailable'>$/.test(received[2]!)) session(received[1]!).events.push({ client: true });
      continue;
    }
    // A resumption acknowledges with the <resume h=…/> the new connection sent: the queue's
    // length before, less what is left to resend, logged under the resumed session's id.
    const beforeResuming = /^\S+ \S+ \S+ (\S+)\tdebug\tPre-resumption #queue = (\d+)$/.exec(line);
    if (beforeResuming) {
      session(beforeResuming[1]!).queuedBeforeResuming = Number(beforeResuming[2]);
      continue;
    }
    const resent = /^\S+ \S+ \S+ (\S+)\tdebug\tresending all unacked stanzas that are still queued after resume, #queue = (\d+)$/.exec(line);
    if (resent) {
      const s = session(resent[1]!);
      s.acked += (s.queuedBeforeResuming ?? 0) - Number(resent[2]);
      s.events.push({ resumed: true });
      continue;
    }
    const answered = /^\S+ \S+ \S+ (\S+)\tdebug\t#queue = \d+ \(acked: (\d+)\)$/.exec(line);
    if (!answered) continue;
    const s = session(answered[1]!);
    s.acked += Number(answered[2]);
    s.events.push({ handled: s.acked });
  }
  return unmetAckRequests([...sessions.values()].map((s) => s.events));
}
