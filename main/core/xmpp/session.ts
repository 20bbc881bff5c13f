// Composes one XMPP client connection from xmpp.js parts, the way Heron needs it:
// TLS always (STARTTLS or direct TLS) with the certificate checked against the account's
// domain even when a host override points at an IP, and admitted before the stream starts;
// nothing negotiated on a stream without TLS; nothing before the session (no stanza is acted
// on or sent until the stream is encrypted, authenticated and bound, DESIGN §3); a byte limit
// per top-level element, enforced before the XML parser; redirects followed only within the
// account's domain; no library reconnect (the account state machine owns retries).
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import { Client } from '@xmpp/client-core';
import xml, { Parser, type Element } from '@xmpp/xml';
import { promise } from '@xmpp/events';
import middlewareFactory from '@xmpp/middleware';
import streamFeaturesFactory, { type StreamFeatures } from '@xmpp/stream-features';
import iqCallerFactory, { type IqCaller } from '@xmpp/iq/caller.js';
import iqCalleeFactory, { type IqCallee } from '@xmpp/iq/callee.js';
import resourceBinding from '@xmpp/resource-binding';
import streamManagementFactory, { type StreamManagement } from '@xmpp/stream-management';
import { redirectTarget, serviceFor, type Endpoint } from './endpoints';
import { admitPeer } from './certificate';
import { useSasl, type SaslAccount } from './sasl';
import { createElementMeter, DEFAULT_MAX_ELEMENT_BYTES } from './element-meter';
import {
  destroySocket,
  directTlsTransport,
  endSocket,
  interceptSeeOtherHost,
  plainSocket,
  plainTransport,
  replaceSocket,
  settleEarlyAnswers,
  type ParserClass,
} from './xmppjs-adapter';

const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SM = 'urn:xmpp:sm:3';
const NS_STREAMS = 'http://etherx.jabber.org/streams';
const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';
/** Successive redirects followed before giving up: a loop must end (RFC 6120 suggests 2 to 5). */
const MAX_REDIRECTS = 2;

export type SessionOptions = {
  /** Bare JID of the account. */
  jid: { local: string; domain: string };
  password: () => Promise<string>;
  /** What the account allows and remembers about logging in (PLAIN after SCRAM). */
  sasl: SaslAccount;
  resource: string;
  endpoint: Endpoint;
  /** Extra PEM CAs trusted beside the system's (tests use a throwaway CA). */
  trustedCAs?: string[];
  /** SHA-256 fingerprint of the one certificate the user trusted for this account despite validation. */
  trustedCertificate?: string | null;
  timeoutMs?: number;
  /** Largest top-level element (stanza or nonza) accepted from the server, in bytes; 1 MiB by default. */
  maxElementBytes?: number;
};

export type Session = {
  entity: Client;
  iqCaller: IqCaller;
  iqCallee: IqCallee;
  streamManagement: StreamManagement;
  /**
   * Hears every stanza of the established session, after xmpp.js's own handlers (iq answers,
   * stream management) saw it. Stanzas of a stream not yet encrypted, authenticated and bound
   * never reach it: they end the connection instead.
   */
  onStanza(listener: (stanza: Element) => void): () => void;
  /**
   * Connects and resolves once it is safe to send stanzas the server will count: stream
   * management is enabled (or refused, or not offered). xmpp.js fires `online` before
   * `<enabled/>`; initial presence sent in between breaks the ack counter (DESIGN §5).
   */
  open(): Promise<void>;
  /**
   * Reconnects a dropped session and asks the server to resume it: true when it did; false
   * when it refused and a new session was opened on the new stream instead.
   */
  resume(): Promise<boolean>;
  /** Drops the connection at once without closing the stream: after a failure, or without a network. */
  abort(): void;
  /**
   * Closes the stream (XEP-0198's last count, then the closing tag). From the first step no
   * stanza goes out: one sent after the last count would go unacknowledged and be lost, where
   * refused it stays in the outbox, or is simply asked again next session.
   */
  close(): Promise<void>;
  /**
   * Adds an origin check that runs before anything may answer: a stanza it refuses is dropped
   * unanswered (RFC 6121 §2.1.6: a forged roster push gets no reply, not even an error).
   */
  refuseIncoming(refuses: (stanza: Element) => boolean): void;
};

/** Raised when the server would have us authenticate without TLS. */
export class InsecureStreamError extends Error {
  constructor() {
    super('The server does not offer an encrypted connection; Heron never logs in without TLS.');
    this.name = 'InsecureStreamError';
  }
}

/**
 * A stanza arrived before the session was established (encrypted, authenticated and bound):
 * no server sends one, but someone on the network path can write into a stream before TLS.
 */
export class PrematureStanzaError extends Error {
  constructor(readonly stanza: string) {
    super(`A <${stanza}> arrived before the connection was secured and logged in; someone on the network may be tampering with it.`);
    this.name = 'PrematureStanzaError';
  }
}

/** The server sent an element larger than we accept; we closed the stream with <policy-violation/>. */
export class ElementTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The server sent more than ${formatBytes(limit)} in one piece; Heron closed the connection.`);
    this.name = 'ElementTooLargeError';
  }
}

/** The server redirected us (see-other-host) somewhere we do not follow. */
export class RedirectRefusedError extends Error {
  constructor(
    readonly target: string,
    why: string,
  ) {
    super(`The server redirected to "${target}", which Heron does not follow: ${why}.`);
    this.name = 'RedirectRefusedError';
  }
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

const isStanza = (element: Element) => element.name === 'iq' || element.name === 'message' || element.name === 'presence';
const isBindRequest = (element: Element) => element.is('iq') && element.attrs.type === 'set' && Boolean(element.getChild('bind', NS_BIND));

/**
 * Where a stream stands, for what may pass: `negotiating` until SASL succeeded on an encrypted
 * stream, `authenticated` until the resource is bound or the session resumed, then
 * `established`; `failed` once we end the connection ourselves (nothing more is acted on).
 */
type Phase = 'negotiating' | 'authenticated' | 'established' | 'failed';

/**
 * The stream parser with the element meter in front: text that would make one top-level
 * element larger than `maxBytes` never reaches ltx (whose cost grows with the square of an
 * unfinished element); `tooLarge` is told once, and the parser ignores the rest.
 */
function meteredParser(maxBytes: number, tooLarge: () => void): ParserClass {
  return class MeteredParser extends Parser {
    private readonly meter = createElementMeter(maxBytes);
    private refused = false;

    override write(text: string): void {
      if (this.refused) return;
      if (this.meter.feed(text)) return super.write(text);
      this.refused = true;
      tooLarge();
    }
  };
}

/** TLS for `domain`: its certificate is checked against the XMPP domain, whatever host we dialled. */
export function tlsOptions(domain: string, trustedCAs: string[] | undefined): tls.ConnectionOptions {
  return {
    servername: domain,
    // Validate against the XMPP domain, not the host we dialled (which may be an IP).
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(domain, cert),
    ...(trustedCAs?.length ? { ca: [...tls.rootCertificates, ...trustedCAs] } : {}),
    minVersion: 'TLSv1.2',
  };
}

/**
 * The TLS socket xmpp.js writes the stream to. Node still verifies chain and name and reports
 * the verdict in `authorized`; we take the decision on `secureConnect`, before xmpp.js hears
 * of the connection and so before any byte of the stream is written: a refused certificate
 * closes the socket with its details, and only the user's pinned certificate may pass unverified.
 */
function checkedTlsSocket(pin: string | null) {
  return class CheckedTlsSocket extends EventEmitter {
    readonly secure = true;
    socket: tls.TLSSocket | null = null;

    connect(options: tls.ConnectionOptions): void {
      const socket = tls.connect({ ...options, rejectUnauthorized: false });
      // Decoded here, across chunks: xmpp.js decodes each chunk on its own, which breaks a
      // character whose bytes straddle two TLS records.
      socket.setEncoding('utf8');
      this.socket = socket;
      socket.on('data', (data) => this.emit('data', data));
      socket.on('error', (error) => this.emit('error', error));
      socket.on('close', (hadError) => this.emit('close', hadError));
      socket.once('secureConnect', () => {
        const refusal = admitPeer(
          { authorized: socket.authorized, authorizationError: socket.authorizationError, certificate: socket.getPeerX509Certificate() },
          pin,
        );
        if (refusal) return socket.destroy(refusal);
        // Openfire loses a stream header that follows the TLS 1.3 handshake too closely
        // (xmpp.js issue 889): start the stream a moment later.
        setTimeout(() => {
          if (!socket.destroyed) this.emit('connect');
        }, 1);
      });
    }

    end(): void {
      this.socket?.end();
    }

    destroy(): void {
      this.socket?.destroy();
    }

    write(data: string, callback?: (error?: Error | null) => void): void {
      this.socket!.write(data, callback);
    }
  };
}

type CheckedTlsSocketClass = ReturnType<typeof checkedTlsSocket>;

function startTls(streamFeatures: StreamFeatures, options: tls.ConnectionOptions, Socket: CheckedTlsSocketClass) {
  streamFeatures.use('starttls', NS_TLS, async ({ entity }, next) => {
    if (entity.isSecure()) return next();
    const answer = await entity.sendReceive(xml('starttls', { xmlns: NS_TLS }));
    if (!answer.is('proceed', NS_TLS)) throw new Error('The server refused to start TLS.');
    const socket = new Socket();
    socket.connect({ socket: plainSocket(entity), ...options });
    await promise(socket, 'connect');
    replaceSocket(entity, socket);
    await entity.restart();
  });
}

export function createSession(options: SessionOptions): Session {
  const { jid, endpoint } = options;
  /** Where the next connection goes: the endpoint, or where the server last redirected us. */
  let current = endpoint;
  let service = serviceFor(current);
  const entity = new Client({ service, domain: jid.domain, lang: 'en', timeout: options.timeoutMs ?? 15_000 });
  const secure = tlsOptions(jid.domain, options.trustedCAs);
  const Socket = checkedTlsSocket(options.trustedCertificate ?? null);
  const maxElementBytes = options.maxElementBytes ?? DEFAULT_MAX_ELEMENT_BYTES;

  let phase: Phase = 'negotiating';
  /** The id of our resource binding request, whose answer is the one stanza a bound-to-be stream may carry. */
  let bindId: string | undefined;
  /** Stanzas the gate let through, for `onStanza`. */
  const admitted = new WeakSet<Element>();
  const stanzaListeners = new Set<(stanza: Element) => void>();
  let redirects = 0;
  /** A redirect we follow: the next disconnect during negotiation connects there. */
  let redirectPending = false;
  /** `close()` was called: nothing but the stream's own closing goes out. */
  let closing = false;
  entity.on('connecting', () => {
    closing = false;
    phase = 'negotiating';
    bindId = undefined;
    redirectPending = false;
  });

  /** Ends the connection at once for `error`: nothing that is still in the pipe is acted on. */
  const refuse = (error: Error) => {
    if (phase === 'failed') return;
    phase = 'failed';
    entity.emit('error', error);
    destroySocket(entity);
  };

  const Parser = meteredParser(maxElementBytes, () => {
    if (phase === 'failed') return;
    phase = 'failed';
    // We close the stream: the server ends the session, there is nothing to resume (and it
    // would only hand the same element over again).
    streamManagement.id = '';
    entity.emit('error', new ElementTooLargeError(maxElementBytes));
    // RFC 6120 §4.9: the stream error, then the closing tag; we read nothing more of this stream.
    const error = xml(
      'stream:error',
      {},
      xml('policy-violation', { xmlns: NS_STREAM_ERRORS }),
      xml('text', { xmlns: NS_STREAM_ERRORS, 'xml:lang': 'en' }, `An element exceeded ${formatBytes(maxElementBytes)}.`),
    );
    entity
      .write(`${error.toString()}</stream:stream>`)
      .catch(() => {})
      .finally(() => endSocket(entity, 1_000));
  });
  entity.transports.push(plainTransport(Parser), directTlsTransport(Parser, Socket, secure));

  // Nothing is sent but stream negotiation before the session: the one stanza allowed is our
  // resource binding request, once authenticated. (Features only send once online; this
  // holds the line for anything that would not wait, e.g. an answer to an injected query.)
  const send = entity.send.bind(entity);
  entity.send = (element: Element) => {
    if (isStanza(element) && closing) return Promise.reject(new Error(`A <${element.name}> was not sent: the session is closing.`));
    if (isStanza(element) && phase !== 'established') {
      if (phase !== 'authenticated' || !isBindRequest(element)) {
        return Promise.reject(new Error(`A <${element.name}> was not sent: the session is not established yet.`));
      }
      bindId = element.attrs.id;
    }
    return send(element);
  };

  const middleware = middlewareFactory({ entity });
  // First in line, the gate: stream features on a stream without TLS that do not offer
  // STARTTLS end the connection before any other feature (SASL, binding) may act on them, and
  // so does any stanza before the session is established. It also tells the phases apart, on
  // the elements themselves, so that what follows them in the same chunk is judged right.
  middleware.use(({ stanza }, next) => {
    if (phase === 'failed') return;
    if (stanza.is('features', NS_STREAMS) && !entity.isSecure() && !stanza.getChild('starttls', NS_TLS)) {
      throw new InsecureStreamError();
    }
    if (isStanza(stanza)) {
      if (phase === 'authenticated' && stanza.name === 'iq' && bindId !== undefined && stanza.attrs.id === bindId) {
        if (stanza.attrs.type === 'result') phase = 'established';
        return next();
      }
      if (phase !== 'established') return refuse(new PrematureStanzaError(stanza.name));
      admitted.add(stanza);
      return next();
    }
    if (phase === 'negotiating' && stanza.is('success', NS_SASL) && entity.isSecure()) phase = 'authenticated';
    else if (phase === 'authenticated' && stanza.is('resumed', NS_SM)) phase = 'established';
    // Acks belong to an enabled stream: before the session, nothing is answered or counted.
    else if (phase !== 'established' && stanza.getNS() === NS_SM && (stanza.is('r') || stanza.is('a'))) return;
    return next();
  });
  entity.on('stanza', (stanza: Element) => {
    if (admitted.has(stanza)) for (const listener of stanzaListeners) listener(stanza);
  });
  const streamFeatures = streamFeaturesFactory({ middleware });
  // Stream management comes before the iq caller and callee: the caller keeps the answers it
  // was waiting for to itself, and a stanza not counted makes the server re-send it on
  // resumption. Its stream feature (resume or enable) only acts on an authenticated stream.
  const streamManagement = streamManagementFactory({
    entity,
    middleware,
    streamFeatures: {
      use: (name, xmlns, handler) => streamFeatures.use(name, xmlns, (ctx, next, feature) => (phase === 'authenticated' ? handler(ctx, next, feature) : next())),
    },
  });
  // After stream management, before the iq caller and callee: what a feature refuses (a forged
  // roster push) is dropped unanswered, yet counted as handled, or the server would send it
  // again on every resumption.
  const refusals: Array<(stanza: Element) => boolean> = [];
  middleware.use(({ stanza }, next) => (refusals.some((refuses) => refuses(stanza)) ? undefined : next()));
  const iqCaller = iqCallerFactory({ middleware, entity });
  settleEarlyAnswers(iqCaller);
  // xmpp.js's timeout carries no message, and every log line that quotes it came out empty.
  const request = iqCaller.request.bind(iqCaller);
  iqCaller.request = async (stanza, timeout = 30_000) => {
    try {
      return await request(stanza, timeout);
    } catch (error) {
      const e = error as Error;
      if (e.name === 'TimeoutError' && !e.message) {
        const query = stanza.getChildElements()[0]?.getNS() ?? 'query';
        e.message = `No answer to ${query} from ${stanza.attrs.to ?? jid.domain} within ${timeout / 1000} s.`;
      }
      throw e;
    }
  };
  const iqCallee = iqCalleeFactory({ middleware, entity });

  // Order is priority: TLS, then SASL, then binding (stream management, registered above,
  // binds first and enables after, or resumes instead).
  startTls(streamFeatures, secure, Socket);
  useSasl({ streamFeatures, entity }, { username: jid.local, password: options.password, account: options.sasl });
  resourceBinding({ iqCaller, streamFeatures }, options.resource);

  iqCallee.get('urn:xmpp:ping', 'ping', () => ({}));

  interceptSeeOtherHost(entity, (text) => {
    // xmpp.js ends the stream after any stream error; a refused redirect says why it ended.
    const refuseRedirect = (why: string) => void entity.emit('error', new RedirectRefusedError(text, why));
    if (!entity.isSecure()) return refuseRedirect('it came before the connection was encrypted');
    const target = redirectTarget(text, jid.domain, current);
    if (typeof target === 'string') return refuseRedirect(target);
    if (redirects >= MAX_REDIRECTS) return refuseRedirect(`the server redirected ${redirects} times in a row`);
    redirects++;
    current = target;
    service = serviceFor(current);
    redirectPending = true;
  });

  let smOffered = false;
  entity.on('nonza', (element: Element) => {
    if (element.is('features', NS_STREAMS)) smOffered = Boolean(element.getChild('sm', NS_SM));
  });

  /**
   * Runs `start` and resolves once it is safe to send stanzas the server will count: true when
   * the previous session was resumed (XEP-0198), false for a new one with stream management
   * enabled (or refused, or not offered).
   */
  const negotiate = (start: () => Promise<unknown>) =>
    new Promise<boolean>((resolve, reject) => {
      let bound = false;
      const cleanup = () => {
        entity.off('nonza', onNonza);
        entity.off('online', onOnline);
        entity.off('error', onError);
        entity.off('disconnect', onDisconnect);
        streamManagement.off('resumed', onResumed);
      };
      const done = (resumed: boolean) => {
        cleanup();
        redirects = 0;
        resolve(resumed);
      };
      // Emitted once the unacknowledged stanzas went out again.
      const onResumed = () => done(true);
      // A <failed/> before binding refuses <resume/>; negotiation goes on towards a new session.
      const onNonza = (element: Element) => {
        if (element.is('enabled', NS_SM) || (bound && element.is('failed', NS_SM))) done(false);
      };
      const onOnline = () => {
        bound = true;
        if (!smOffered) done(false);
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      // A server that just closes the socket during negotiation emits no error; one that
      // redirected us (and was found right to) is followed on the same entity.
      const onDisconnect = () => {
        if (!redirectPending) return onError(Object.assign(new Error('The server closed the connection.'), { code: 'ECONNRESET' }));
        redirectPending = false;
        connect().catch(onError);
      };
      entity.on('nonza', onNonza);
      entity.on('online', onOnline);
      entity.on('error', onError);
      entity.on('disconnect', onDisconnect);
      streamManagement.on('resumed', onResumed);
      start().catch(onError);
    });

  const connect = async () => {
    const { domain, lang } = entity.options;
    await entity.connect(service);
    await entity.open({ domain, lang });
  };
  const open = () => negotiate(connect).then(() => undefined);
  // The way @xmpp/reconnect does it: a new stream on the same entity, whose stream management
  // sends <resume/> when it holds a session id.
  const resume = () => negotiate(connect);
  const abort = () => destroySocket(entity);
  const onStanza = (listener: (stanza: Element) => void) => {
    stanzaListeners.add(listener);
    return () => void stanzaListeners.delete(listener);
  };

  const close = async () => {
    closing = true;
    await entity.stop();
  };

  return { entity, iqCaller, iqCallee, streamManagement, onStanza, open, resume, abort, close, refuseIncoming: (refuses) => void refusals.push(refuses) };
}
