// Every use of xmpp.js internals, in one place: what this file touches is not the library's
// public API and may change in any release. The versions it was written against are pinned in
// package.json; test/unit/xmppjs-adapter.test.ts checks each shape relied on here and fails
// when an upgrade changed one. Change nothing here without reading the library's new source.
import type net from 'node:net';
import type tls from 'node:tls';
import type { Client } from '@xmpp/client-core';
import type { Element } from '@xmpp/xml';
import type { StreamManagement } from '@xmpp/stream-management';
import type { IqCaller } from '@xmpp/iq/caller.js';
// The transport classes are not exported by the package indexes, only registered by them.
import ConnectionTCP from '@xmpp/tcp/lib/Connection.js';
import ConnectionTLS from '@xmpp/tls/lib/Connection.js';

/** The xmpp.js release the internals below were read in. */
export const XMPPJS_VERSION = '0.14.0';

/** What xmpp.js expects of a socket class: connect, write, end, and the events it listens to. */
export type SocketClass = new () => NodeJS.EventEmitter & {
  readonly secure: boolean;
  connect(options: object): void;
  write(data: string, callback?: (error?: Error | null) => void): void;
  end(): void;
};

/** What xmpp.js expects of a parser class: `write(text)`, emitting start/element/end/error. */
export type ParserClass = new () => { write(text: string): void };

type Transport = typeof ConnectionTCP;

/**
 * The plain TCP transport (`xmpp:` services) with our stream parser. `Parser` and `Socket` are
 * prototype slots the connection reads on every connect; they are marked "Override" in
 * @xmpp/connection but not documented.
 */
export function plainTransport(Parser: ParserClass): Transport {
  const transport = class PlainTcp extends ConnectionTCP {};
  transport.prototype.Parser = Parser;
  return transport;
}

/** The direct TLS transport (`xmpps:` services) with our socket class, parser and TLS options. */
export function directTlsTransport(Parser: ParserClass, Socket: SocketClass, options: object): Transport {
  const transport = class DirectTls extends ConnectionTLS {
    override socketParameters(service: string) {
      const params = super.socketParameters(service);
      return params && { ...params, ...options };
    }
  };
  transport.prototype.Parser = Parser;
  transport.prototype.Socket = Socket;
  return transport;
}

type AnySocket = { socket?: AnySocket | null; destroy?(error?: Error): void; end?(): void };

/** The Node socket the stream runs on now, under whatever wrapper xmpp.js holds. */
function nodeSocket(entity: Client): AnySocket | null {
  const socket = (entity as unknown as { socket: AnySocket | null }).socket;
  return socket?.socket ?? socket;
}

/** Drops the connection at once (no stream close), reporting `error` as the socket's. */
export function destroySocket(entity: Client, error?: Error): void {
  nodeSocket(entity)?.destroy?.(error);
}

/**
 * Ends the connection after what was written (a FIN, and TLS's close_notify) and drops it if
 * the server does not close its side within `graceMs`: destroying at once could lose the last
 * words, as a socket closed with unread data resets the connection.
 */
export function endSocket(entity: Client, graceMs: number): void {
  (entity as unknown as { socket: AnySocket | null }).socket?.end?.();
  setTimeout(() => destroySocket(entity), graceMs).unref();
}

/** Node's TLS socket under the stream once it is encrypted (for SASL channel binding). */
export function tlsSocket(entity: Client): tls.TLSSocket | undefined {
  // Our CheckedTlsSocket (session.ts) holds Node's TLS socket; a plain stream has none.
  return (entity as unknown as { socket: { socket?: tls.TLSSocket } | null }).socket?.socket;
}

/** The plain TCP socket of a stream that has not started TLS, for STARTTLS to wrap. */
export function plainSocket(entity: Client): net.Socket {
  return (entity as unknown as { socket: net.Socket }).socket;
}

/** Moves the stream onto another socket (after STARTTLS): xmpp.js's own `_attachSocket`. */
export function replaceSocket(entity: Client, socket: NodeJS.EventEmitter): void {
  (entity as unknown as { _attachSocket(socket: NodeJS.EventEmitter): void })._attachSocket(socket);
}

/** Stanzas sent on this stream that the server has not acknowledged yet (XEP-0198), oldest first. */
export function unacknowledged(streamManagement: StreamManagement): Element[] {
  return streamManagement.outbound_q.map((item) => item.stanza);
}

/**
 * An answer that comes back before our request has finished being written (a refusal from a
 * room or our server is quick; the TLS write callback waits for the socket) rejects xmpp.js's
 * pending promise while nothing listens to it yet: an unhandled rejection, which ends a Node
 * process. Each pending request is marked handled as it is registered; the caller still gets
 * the error through `request`, which awaits that same promise after the write.
 */
export function settleEarlyAnswers(iqCaller: IqCaller): void {
  const handlers = (iqCaller as unknown as { handlers: Map<string, { promise: Promise<unknown> }> }).handlers;
  const register = handlers.set.bind(handlers);
  handlers.set = (id, deferred) => {
    deferred.promise.catch(() => {});
    return register(id, deferred);
  };
}

/**
 * Takes over `<see-other-host/>`: xmpp.js would otherwise reconnect by itself to whatever host
 * the stream error names, with no check and behind our back. `redirect` gets the host text.
 */
export function interceptSeeOtherHost(entity: Client, redirect: (host: string, error: Error & { element: Element }) => void): void {
  (entity as unknown as { _onSeeOtherHost(error: Error & { element: Element }): void })._onSeeOtherHost = (error) =>
    redirect(error.element.getChildText('see-other-host') ?? '', error);
}
