// A throwaway Prosody for tests: its own temp dir, free loopback ports, a fresh CA and
// server certificate, accounts registered per run. Nothing here touches the system Prosody.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type TestServer = {
  domain: string;
  /** Additional virtual hosts served by the same Prosody. */
  domains: string[];
  host: '127.0.0.1';
  /** STARTTLS port. */
  port: number;
  directTlsPort: number;
  /** PEM of the throwaway CA that signed the server certificate. */
  caPem: string;
  dir: string;
  register(local: string, password: string, domain?: string): Promise<string>;
  /** Runs one admin console command (prosodyctl shell) and returns what it printed. */
  shell(command: string): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Ends every session of `jid` with a stream error, as the admin would from the server's shell. */
  closeSessions(jid: string, condition: string, text: string): Promise<void>;
  /** The server certificate it presents now. */
  certificate(): X509Certificate;
  /** Gives the server a new key and certificate (same CA) and restarts it. */
  renewCertificate(): Promise<void>;
  log(): string;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const openssl = (dir: string, ...args: string[]) => run('openssl', args, { cwd: dir });
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCertificates(dir: string, domains: string[]): Promise<void> {
  await openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Heron throwaway test CA');
  await makeServerCertificate(dir, domains);
}

/** A new key and certificate for the server, signed by the throwaway CA. */
async function makeServerCertificate(dir: string, domains: string[]): Promise<void> {
  await openssl(dir, 'req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${domains[0]}`);
  const san = domains.flatMap((d) => [`DNS:${d}`, `DNS:*.${d}`]).join(',');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  await openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
}

type ServerOptions = { domains?: string[]; storage?: 'internal' | 'sql'; logLevel?: 'debug' | 'info' };

function config(dir: string, port: number, directTlsPort: number, domains: string[], options: ServerOptions): string {
  const hosts = domains
    .map((d) => `VirtualHost "${d}"\n  ssl = { certificate = "${dir}/server.crt", key = "${dir}/server.key" }\n`)
    .join('');
  return `
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_direct_tls_ports = { ${directTlsPort} }
-- Direct TLS (XEP-0368) does not use the VirtualHost ssl settings; it needs its own.
c2s_direct_tls_ssl = { certificate = "${dir}/server.crt", key = "${dir}/server.key" }
s2s_ports = { }
admin_socket = "${dir}/admin.sock"
certificates = "${dir}/certs"
modules_enabled = { "roster", "saslauth", "tls", "disco", "carbons", "pep", "private", "blocklist", "vcard4", "vcard_legacy",
  "version", "uptime", "time", "ping", "mam", "smacks", "csi_simple", "offline", "posix", "admin_shell" }
modules_disabled = { "s2s" }
c2s_require_encryption = true
allow_registration = false
authentication = "internal_hashed"
archive_expires_after = "never"
max_archive_query_results = 250
storage_archive_item_limit = 1000000
${options.storage === 'sql' ? `storage = "sql"\nsql = { driver = "SQLite3", database = "${dir}/prosody.sqlite" }` : ''}
log = { { levels = { min = "${options.logLevel ?? 'info'}" }, to = "file", filename = "${dir}/prosody.log" } }
${hosts}`;
}

async function waitForPort(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prosody exited (${child.exitCode}):\n${readTail(logFile)}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`prosody did not listen on ${port}:\n${readTail(logFile)}`);
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startProsody(options: ServerOptions = {}): Promise<TestServer> {
  const domains = options.domains ?? ['heron.test'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-prosody-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.mkdirSync(path.join(dir, 'certs'));
  await makeCertificates(dir, domains);
  const [port, directTlsPort] = [await freePort(), await freePort()];
  const configFile = path.join(dir, 'prosody.cfg.lua');
  fs.writeFileSync(configFile, config(dir, port, directTlsPort, domains, options));
  const logFile = path.join(dir, 'prosody.log');
  let child: ChildProcess | undefined;

  const server: TestServer = {
    domain: domains[0]!,
    domains,
    host: '127.0.0.1',
    port,
    directTlsPort,
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
      await waitForPort(port, child, logFile);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
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
  };
  await server.start();
  return server;
}
