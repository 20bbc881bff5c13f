// Composes one XMPP client connection from xmpp.js parts, the way Heron needs it:
// TLS always (STARTTLS or direct TLS) with the certificate checked against the account's
// domain even when a host override points at an IP, and admitted before the stream starts;
// nothing negotiated on a stream without TLS; no library reconnect (the account state
// machine owns retries).
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import type net from 'node:net';
import { Client } from '@xmpp/client-core';
import xml, { type Element } from '@xmpp/xml';
import tcp from '@xmpp/tcp';
import ConnectionTLS from '@xmpp/tls/lib/Connection.js';
import { promise } from '@xmpp/events';
import middlewareFactory from '@xmpp/middleware';
import streamFeaturesFactory, { type StreamFeatures } from '@xmpp/stream-features';
import iqCallerFactory, { type IqCaller } from '@xmpp/iq/caller.js';
import iqCalleeFactory, { type IqCallee } from '@xmpp/iq/callee.js';
import SASLFactory from 'saslmechanisms';
import scramsha1 from '@xmpp/sasl-scram-sha-1';
import plain from '@xmpp/sasl-plain';
import sasl from '@xmpp/sasl';
import resourceBinding from '@xmpp/resource-binding';
import streamManagementFactory, { type StreamManagement } from '@xmpp/stream-management';
import type { Endpoint } from './endpoints';
import { admitPeer } from './certificate';

const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_SM = 'urn:xmpp:sm:3';
const NS_STREAMS = 'http://etherx.jabber.org/streams';

export type SessionOptions = {
  /** Bare JID of the account. */
  jid: { local: string; domain: string };
  password: () => Promise<string>;
  resource: string;
  endpoint: Endpoint;
  /** Extra PEM CAs trusted beside the system's (tests use a throwaway CA). */
  trustedCAs?: string[];
  /** SHA-256 fingerprint of the one certificate the user trusted for this account despite validation. */
  trustedCertificate?: string | null;
  timeoutMs?: number;
};

export type Session = {
  entity: Client;
  iqCaller: IqCaller;
  iqCallee: IqCallee;
  streamManagement: StreamManagement;
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
};

/** Raised when the server would have us authenticate without TLS. */
export class InsecureStreamError extends Error {
  constructor() {
    super('The server does not offer an encrypted connection; Heron never logs in without TLS.');
    this.name = 'InsecureStreamError';
  }
}

function tlsOptions(domain: string, trustedCAs: string[] | undefined): tls.ConnectionOptions {
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

function directTlsTransport(options: tls.ConnectionOptions, Socket: CheckedTlsSocketClass) {
  const transport = class DirectTls extends ConnectionTLS {
    override socketParameters(service: string) {
      const params = super.socketParameters(service);
      return params && { ...params, ...options };
    }
  };
  transport.prototype.Socket = Socket;
  return transport;
}

function startTls(streamFeatures: StreamFeatures, options: tls.ConnectionOptions, Socket: CheckedTlsSocketClass) {
  streamFeatures.use('starttls', NS_TLS, async ({ entity }, next) => {
    if (entity.isSecure()) return next();
    const answer = await entity.sendReceive(xml('starttls', { xmlns: NS_TLS }));
    if (!answer.is('proceed', NS_TLS)) throw new Error('The server refused to start TLS.');
    const socket = new Socket();
    socket.connect({ socket: entity.socket as net.Socket, ...options });
    await promise(socket, 'connect');
    entity._attachSocket(socket);
    await entity.restart();
  });
}

export function createSession(options: SessionOptions): Session {
  const { jid, endpoint } = options;
  const service = `${endpoint.directTls ? 'xmpps' : 'xmpp'}://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
  const entity = new Client({ service, domain: jid.domain, lang: 'en', timeout: options.timeoutMs ?? 15_000 });
  const secure = tlsOptions(jid.domain, options.trustedCAs);
  const Socket = checkedTlsSocket(options.trustedCertificate ?? null);

  tcp({ entity });
  entity.transports.push(directTlsTransport(secure, Socket));

  const middleware = middlewareFactory({ entity });
  // First in line: stream features on a stream without TLS that do not offer STARTTLS end
  // the connection before any other feature (SASL, binding) may act on them.
  middleware.use(({ stanza }, next) => {
    if (stanza.is('features', NS_STREAMS) && !entity.isSecure() && !stanza.getChild('starttls', NS_TLS)) {
      throw new InsecureStreamError();
    }
    return next();
  });
  const streamFeatures = streamFeaturesFactory({ middleware });
  const iqCaller = iqCallerFactory({ middleware, entity });
  const iqCallee = iqCalleeFactory({ middleware, entity });

  // Order is priority: TLS, then SASL, then stream management (which binds the resource).
  startTls(streamFeatures, secure, Socket);
  const saslFactory = new SASLFactory();
  scramsha1(saslFactory);
  plain(saslFactory);
  sasl({ streamFeatures, saslFactory }, async (authenticate, mechanisms) => {
    const mechanism = mechanisms[0];
    if (!mechanism) throw new Error('The server offers no login method Heron supports.');
    await authenticate({ username: jid.local, password: await options.password() }, mechanism);
  });
  const streamManagement = streamManagementFactory({ streamFeatures, entity, middleware });
  resourceBinding({ iqCaller, streamFeatures }, options.resource);

  iqCallee.get('urn:xmpp:ping', 'ping', () => ({}));

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
      // A server that just closes the socket during negotiation emits no error.
      const onDisconnect = () => onError(Object.assign(new Error('The server closed the connection.'), { code: 'ECONNRESET' }));
      entity.on('nonza', onNonza);
      entity.on('online', onOnline);
      entity.on('error', onError);
      entity.on('disconnect', onDisconnect);
      streamManagement.on('resumed', onResumed);
      start().catch(onError);
    });

  const open = () => negotiate(() => entity.start()).then(() => undefined);
  // The way @xmpp/reconnect does it: a new stream on the same entity, whose stream management
  // sends <resume/> when it holds a session id.
  const resume = () =>
    negotiate(async () => {
      const { service, domain, lang } = entity.options;
      await entity.connect(service);
      await entity.open({ domain, lang });
    });

  // Both socket kinds (net.Socket for a plain start, ours for TLS) can be destroyed.
  const abort = () => (entity.socket as { destroy(): void } | null)?.destroy();

  return { entity, iqCaller, iqCallee, streamManagement, open, resume, abort };
}
