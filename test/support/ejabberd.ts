// A throwaway ejabberd (Debian's package) for tests: its own temp dir, free loopback ports, a
// fresh certificate, its own Erlang node, cookie and Mnesia dir, accounts registered per run.
// Nothing here touches the system ejabberd, /var/lib/ejabberd or epmd.
//
// Started the way ejabberdctl starts it, but without ejabberdctl: as root that script runs
// everything through `su ejabberd` (which cannot read our temp dir), and as anyone else it
// refuses to run. So `erl` is run directly, as whoever runs the tests, for the server and for
// each admin command. Erlang distribution goes without epmd (`-erl_epmd_port` on a free port,
// `-start_epmd false`), so no epmd is left behind, and the node listens on 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, makeCertificates, readTail, run, terminate, unmetAckRequests, waitForPort, type AckExchange, type AckRequest, type ServerOptions, type XmppTestServer } from './server-kit';

/** Where Debian installs ejabberd's Erlang applications (per architecture): read from ejabberdctl, which sets it. */
function erlLibs(): string {
  const found = /^ERL_LIBS='([^']+)'/m.exec(fs.readFileSync('/usr/sbin/ejabberdctl', 'utf8'));
  if (!found) throw new Error('/usr/sbin/ejabberdctl sets no ERL_LIBS: is this Debian\'s ejabberd package?');
  return found[1]!;
}

/**
 * The server as Debian ships /etc/ejabberd/ejabberd.yml (23.01-1), kept where it matters to a
 * client: the c2s shaper (3,000 B/s after a 20 kB burst), 100 offline messages per user,
 * mod_pres_counter (5 subscription presences a minute), stream management resending to
 * offline storage, the TLS options. Changed for a test: loopback ports, no s2s/HTTP/MQTT
 * listeners, our certificate, debug logging (the stream-management counts are logged at debug),
 * and mod_mam with archiving on by default (Debian's file has no MAM). The log handler is set
 * to keep every line (see `start`): a catch-up logs thousands of lines a second, and a dropped
 * "Send XML" line would make the stream-management check count a stanza never sent.
 */
function config(dir: string, port: number, domains: string[]): string {
  return `
hosts: [${domains.map((d) => JSON.stringify(d)).join(', ')}]
loglevel: debug
log_rotate_count: 0
certfiles: [${JSON.stringify(path.join(dir, 'server.pem'))}]
define_macro:
  TLS_CIPHERS: "HIGH:!aNULL:!eNULL:!3DES:@STRENGTH"
  TLS_OPTIONS: [no_sslv3, no_tlsv1, no_tlsv1_1, cipher_server_preference, no_compression]
c2s_ciphers: TLS_CIPHERS
c2s_protocol_options: TLS_OPTIONS
listen:
  - port: ${port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    starttls_required: true
    protocol_options: TLS_OPTIONS
disable_sasl_mechanisms: [digest-md5, X-OAUTH2]
auth_password_format: scram
acl:
  admin: {user: [""]}
  local: {user_regexp: ""}
access_rules:
  local: {allow: local}
  c2s: {deny: blocked, allow: all}
  pubsub_createnode: {allow: local}
shaper:
  normal: {rate: 3000, burst_size: 20000}
  fast: 200000
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages:
    5000: admin
    100: all
  c2s_shaper:
    none: admin
    normal: all
modules:
  mod_adhoc: {}
  mod_admin_extra: {}
  mod_blocking: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_client_state: {}
  mod_disco: {}
  mod_fail2ban: {}
  mod_last: {}
  mod_mam: {default: always}
  mod_offline: {access_max_user_messages: max_user_offline_messages}
  mod_ping: {}
  mod_pres_counter: {count: 5, interval: 60}
  mod_privacy: {}
  mod_private: {}
  mod_pubsub: {access_createnode: pubsub_createnode, plugins: [flat, pep]}
  mod_roster: {versioning: true}
  mod_stream_mgmt: {resend_on_timeout: if_offline}
  mod_vcard: {search: false}
  mod_vcard_xupdate: {}
  mod_version: {}
`;
}

/**
 * The requests for an ack (XEP-0198 <r/>) the client's answer counted short (see
 * `unmetAckRequests`). ejabberd logs each answer as "acknowledged N of M stanzas" (debug), M
 * being what it has sent by then, stanzas in flight included; what a request asked for is M
 * less what the same c2s process sent after that <r/> ("Send XML on stream", logged per
 * element). A resumption's count (no <r/> before it in that process) is no answer.
 * That reading needs every "Send XML" line: the server's logger is set to keep them all.
 */
export function ejabberdAckShortfalls(log: string): string[] {
  type Session = { events: AckExchange; sentSince: Map<AckRequest, number>; clientAfterAcks: boolean };
  const sessions = new Map<string, Session>();
  const session = (pid: string) => sessions.get(pid) ?? sessions.set(pid, { events: [], sentSince: new Map(), clientAfterAcks: false }).get(pid)!;
  const flush = (s: Session) => {
    if (s.clientAfterAcks) s.events.push({ client: true });
    s.clientAfterAcks = false;
  };
  for (const line of log.split('\n')) {
    const sent = /<([\d.]+)> \(\w+\|<[\d.]+>\) Send XML on stream = <<"<(\w+)/.exec(line);
    if (sent) {
      const s = session(sent[1]!);
      flush(s);
      if (['message', 'presence', 'iq'].includes(sent[2]!)) for (const [r, n] of s.sentSince) s.sentSince.set(r, n + 1);
      if (sent[2] === 'r') {
        const request: AckRequest = { line: line.trim() };
        s.events.push({ request });
        s.sentSince.set(request, 0);
      }
      continue;
    }
    const received = /<([\d.]+)> \(\w+\|<[\d.]+>\) Received XML on stream = <<"(.*)">>$/.exec(line);
    if (received) {
      // A chunk may hold several elements: what the client sent besides acks and its goodbye
      // counts before the chunk's acks, or after them (their log lines follow the chunk's).
      const s = session(received[1]!);
      flush(s);
      const parts = received[2]!.replace(/\\"/g, '"').split(/<a [^<]*?\/>/);
      const counts = (part: string) => part.replace(/<presence type=["']unavailable["']\/>|<\/stream:stream>/g, '').trim() !== '';
      if (parts.slice(0, -1).some(counts)) s.events.push({ client: true });
      s.clientAfterAcks = parts.length > 1 && counts(parts.at(-1)!);
      if (parts.length === 1 && counts(parts[0]!)) s.events.push({ client: true });
      continue;
    }
    const acked = /<([\d.]+)>@mod_stream_mgmt:check_h_attribute.* acknowledged (\d+) of (\d+) stanzas/.exec(line);
    if (!acked) continue;
    const s = session(acked[1]!);
    const [handled, of] = [Number(acked[2]), Number(acked[3])];
    if (!s.events.some((e) => 'request' in e)) continue;
    for (const [request, since] of s.sentSince) request.asked = of - since;
    s.sentSince.clear();
    s.events.push({ handled });
  }
  for (const s of sessions.values()) flush(s);
  return unmetAckRequests([...sessions.values()].map((s) => s.events));
}

function logSince(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const length = fs.fstatSync(fd).size - offset;
    const buffer = Buffer.alloc(Math.max(0, length));
    fs.readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export async function startEjabberd(options: ServerOptions = {}): Promise<XmppTestServer> {
  const domains = options.domains ?? ['heron.test'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-ejabberd-'));
  for (const sub of ['db', 'modules.d']) fs.mkdirSync(path.join(dir, sub));
  await makeCertificates(dir, domains);
  fs.writeFileSync(path.join(dir, 'server.pem'), ['server.key', 'server.crt', 'ca.crt'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join(''));
  const [port, distPort] = [await freePort(), await freePort()];
  fs.writeFileSync(path.join(dir, 'ejabberd.yml'), config(dir, port, domains));
  const logFile = path.join(dir, 'ejabberd.log');
  const node = `heron-${path.basename(dir).slice(-6).replace(/[^A-Za-z0-9]/g, 'x')}@localhost`;
  const cookie = randomBytes(16).toString('hex');
  const env = {
    ...process.env,
    // Erlang and ejabberd look in $HOME (cookie, contributed modules): keep them in our dir.
    HOME: dir,
    ERL_LIBS: erlLibs(),
    EJABBERD_CONFIG_PATH: path.join(dir, 'ejabberd.yml'),
    EJABBERD_LOG_PATH: logFile,
    CONTRIB_MODULES_CONF_DIR: path.join(dir, 'modules.d'),
    ERL_CRASH_DUMP_BYTES: '0',
  };
  const distribution = ['-setcookie', cookie, '-start_epmd', 'false', '-erl_epmd_port', String(distPort)];
  /** Runs one ejabberdctl command (`ejabberdctl help` lists them) against our node. */
  const ctl = async (...args: string[]) => {
    const name = `ctl-${randomBytes(4).toString('hex')}@localhost`;
    const { stdout } = await run(
      'erl',
      ['-sname', name, ...distribution, '-hidden', '-noinput', '-dist_listen', 'false', '-s', 'ejabberd_ctl', '-extra', node, ...args],
      { env, cwd: dir },
    );
    return stdout;
  };
  let child: ChildProcess | undefined;

  const server: XmppTestServer = {
    name: 'ejabberd',
    domain: domains[0]!,
    domains,
    host: '127.0.0.1',
    port,
    caPem: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    dir,
    async register(local, password, domain = domains[0]!) {
      await ctl('register', local, domain, password);
      return `${local}@${domain}`;
    },
    async start() {
      const logFrom = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
      // The node stops when its stdin closes, so a test process that dies leaves no server behind.
      const stopWithUs = ['-noshell', '-eval', 'spawn(fun() -> io:get_line(""), init:stop() end)'];
      // ejabberd's log handler drops lines past 1,000 queued (sync and drop thresholds alike)
      // and past 500 a second (the burst limit; log_burst_limit_count does not reach it in
      // 23.01), and rotates the file at 10 MB, out of the check's sight. With a low sync
      // threshold a process that logs waits for the file instead; no burst limit, no rotation.
      const keepEveryLine = [
        '-eval',
        'ok = logger:update_handler_config(ejabberd_log, config, #{sync_mode_qlen => 10, drop_mode_qlen => 1000000, flush_qlen => 2000000, burst_limit_enable => false, max_no_bytes => infinity})',
      ];
      child = spawn(
        'erl',
        ['-sname', node, ...distribution, '-kernel', 'inet_dist_use_interface', '{127,0,0,1}', '-mnesia', 'dir', `"${dir}/db"`, '-s', 'ejabberd', ...keepEveryLine, ...stopWithUs],
        { env, cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] },
      );
      await waitForPort(port, child, logFile, 'ejabberd');
      // The listener opens before the modules load: a client that came now would miss MAM and SM.
      const deadline = Date.now() + 15_000;
      while (!logSince(logFile, logFrom).includes(' is started in the node ')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`ejabberd did not start:\n${readTail(logFile)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const running = child;
      child = undefined;
      await terminate(running);
    },
    log: () => readTail(logFile),
    ackShortfalls: () => ejabberdAckShortfalls(fs.readFileSync(logFile, 'utf8')),
  };
  await server.start();
  return server;
}
