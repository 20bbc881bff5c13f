// What every throwaway test server needs, whichever server it is: free loopback ports, a fresh
// CA and server certificate, waiting until it listens, and the shape the shared scenarios use.
import { execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** What the scenarios shared by both servers (test/integration/scenarios/) may use. */
export type XmppTestServer = {
  /** "Prosody" or "ejabberd", for test names. */
  name: string;
  domain: string;
  /** Additional virtual hosts served by the same server. */
  domains: string[];
  host: '127.0.0.1';
  /** STARTTLS port. */
  port: number;
  /** PEM of the throwaway CA that signed the server certificate. */
  caPem: string;
  dir: string;
  register(local: string, password: string, domain?: string): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The end of the server's log, for failure messages. */
  log(): string;
  /**
   * Where the server's log shows a client acknowledged fewer stanzas than it had been sent by
   * the time the server asked (XEP-0198): each such line, for a test to fail on. Call it after `stop()`.
   */
  ackShortfalls(): string[];
};

export type ServerOptions = { domains?: string[] };

/** A server's request for an ack (XEP-0198 <r/>): how many stanzas it had sent by then, once known. */
export type AckRequest = { line: string; asked?: number };
/**
 * One session as its server's log tells it, in order: the server's requests, the client's
 * counts (h), its resumptions (XEP-0198 <resume h=…/> on a new connection) and, as `client`,
 * anything else the client sent.
 */
export type AckExchange = Array<{ request: AckRequest } | { handled: number } | { resumed: true } | { client: true }>;

/**
 * The requests for an ack that the client's answer counted short: it said it had handled
 * fewer stanzas than the server had sent when it asked. A client answers every request once,
 * in order; the one <a/> it sends unasked is the one right before it closes the stream
 * (XEP-0198 §4, as xmpp.js does), somewhere among the counts it sent after its last stanza
 * (the unavailable presence of its goodbye aside, which the parsers leave out of `client`).
 * So answers pair with requests in order, once with that closing count left out wherever it
 * fits best, and a request left unanswered (the connection ended first) is not judged.
 * A resumption leaves unanswered what the dropped connection was asked: the client never read
 * those requests, or the stanzas before them, and its <resume h=…/> is no answer to them.
 * Each is described for a failure message.
 */
export function unmetAckRequests(sessions: Iterable<AckExchange>): string[] {
  const pairedShort = (events: AckExchange, unasked: number): string[] => {
    const waiting: AckRequest[] = [];
    const short: string[] = [];
    events.forEach((event, i) => {
      if ('request' in event) waiting.push(event.request);
      if ('resumed' in event) waiting.length = 0;
      if (!('handled' in event) || i === unasked) return;
      const request = waiting.shift();
      if (request?.asked !== undefined && event.handled < request.asked) short.push(`${request.line}: asked for ${request.asked}, answered ${event.handled}`);
    });
    return short;
  };
  return [...sessions].flatMap((events) => {
    const lastClientStanza = events.findLastIndex((e) => 'client' in e);
    const closingCandidates = events.flatMap((e, i) => (i > lastClientStanza && 'handled' in e ? [i] : []));
    return [-1, ...closingCandidates].map((unasked) => pairedShort(events, unasked)).reduce((best, next) => (next.length < best.length ? next : best));
  });
}

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

/** ca.crt/ca.key and server.crt/server.key in `dir`, the server's for `domains` and their subdomains. */
export async function makeCertificates(dir: string, domains: string[]): Promise<void> {
  await openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Heron throwaway test CA');
  await makeServerCertificate(dir, domains);
}

/** A new key and certificate for the server, signed by the throwaway CA. */
export async function makeServerCertificate(dir: string, domains: string[]): Promise<void> {
  await openssl(dir, 'req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${domains[0]}`);
  const san = domains.flatMap((d) => [`DNS:${d}`, `DNS:*.${d}`]).join(',');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  await openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
}

export async function waitForPort(port: number, child: ChildProcess, logFile: string, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${readTail(logFile)}`);
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
  throw new Error(`${name} did not listen on ${port}:\n${readTail(logFile)}`);
}

export function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Ends a child process: SIGTERM, then SIGKILL if it lingers. */
export async function terminate(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
