// A stream to a server before there is an account: only for in-band registration (XEP-0077).
// The same rules as the account session (session.ts): TLS first (STARTTLS or direct TLS), the
// certificate checked against the domain before a byte of the stream goes over it, nothing
// but negotiation on a stream without TLS, a byte limit per element before the XML parser.
// It carries only our own IQ requests and their answers; there is no login and no session.
import net from 'node:net';
import tls from 'node:tls';
import xml, { Parser, type Element } from '@xmpp/xml';
import { admitPeer } from './certificate';
import { createElementMeter, DEFAULT_MAX_ELEMENT_BYTES } from './element-meter';
import type { Endpoint } from './endpoints';
import { InsecureStreamError, ElementTooLargeError, tlsOptions } from './session';

const NS_STREAMS = 'http://etherx.jabber.org/streams';
const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const DEFAULT_TIMEOUT_MS = 15_000;

export type PreAuthStream = {
  /** The stream features offered on the encrypted stream. */
  features: Element;
  /** Sends an IQ (its id is set here) and resolves with the answer; an error answer rejects as a StanzaError. */
  request(iq: Element): Promise<Element>;
  close(): void;
};

export type PreAuthOptions = {
  domain: string;
  endpoint: Endpoint;
  trustedCAs?: string[];
  timeoutMs?: number;
};

/** An error answer, shaped as xmpp.js shapes its own (name, condition, text) so callers read both alike. */
export class StanzaError extends Error {
  constructor(
    readonly condition: string,
    readonly text: string | undefined,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'StanzaError';
  }
}

class StreamError extends Error {
  constructor(
    readonly condition: string,
    readonly text: string | undefined,
  ) {
    super(`The server ended the stream: ${condition}${text ? ` (${text})` : ''}.`);
    this.name = 'StreamError';
  }
}

/** Reads top-level elements from one socket, one stream (restarted after TLS) at a time. */
class ElementReader {
  private queue: Element[] = [];
  private waiting: { resolve: (e: Element) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private parser!: Parser;
  private meter!: ReturnType<typeof createElementMeter>;

  constructor(private readonly timeoutMs: number) {
    this.restart();
  }

  restart(): void {
    this.queue = [];
    this.meter = createElementMeter(DEFAULT_MAX_ELEMENT_BYTES);
    this.parser = new Parser();
    this.parser.on('element', (element: Element) => {
      if (element.is('error', NS_STREAMS)) {
        const condition = element.children.find((c): c is Element => typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-streams' && c.name !== 'text');
        return this.fail(new StreamError(condition?.name ?? 'undefined-condition', element.getChildText('text') ?? undefined));
      }
      if (this.waiting) {
        const { resolve } = this.waiting;
        this.waiting = null;
        resolve(element);
      } else this.queue.push(element);
    });
    this.parser.on('end', () => this.fail(Object.assign(new Error('The server closed the connection.'), { code: 'ECONNRESET' })));
    this.parser.on('error', (error: Error) => this.fail(error));
  }

  feed(text: string): void {
    if (this.failure) return;
    if (!this.meter.feed(text)) return this.fail(new ElementTooLargeError(DEFAULT_MAX_ELEMENT_BYTES));
    this.parser.write(text);
  }

  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    if (this.waiting) this.waiting.reject(error);
    this.waiting = null;
  }

  next(): Promise<Element> {
    if (this.failure) return Promise.reject(this.failure);
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(Object.assign(new Error('The server did not answer in time.'), { name: 'TimeoutError' }));
      }, this.timeoutMs);
      this.waiting = {
        resolve: (e) => (clearTimeout(timer), resolve(e)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }
}

const header = (domain: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' to='${domain.replace(/[&<>'"]/g, (c) => `&#${c.charCodeAt(0)};`)}' version='1.0' xml:lang='en'>`;

/** Resolves on `event`; an error, or silence for `timeoutMs` (a host that drops packets), destroys the socket. */
function connected(socket: net.Socket, event: 'connect' | 'secureConnect', timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error('The server did not answer in time.'), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve();
    });
    socket.once('error', fail);
  });
}

/** Upgrades to TLS (on `plain`, or a new connection) and refuses a certificate that fails validation. */
async function secureSocket(options: PreAuthOptions, plain?: net.Socket): Promise<tls.TLSSocket> {
  const { host, port } = options.endpoint;
  const socket = tls.connect({ ...(plain ? { socket: plain } : { host, port }), ...tlsOptions(options.domain, options.trustedCAs), rejectUnauthorized: false });
  await connected(socket, 'secureConnect', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const refusal = admitPeer({ authorized: socket.authorized, authorizationError: socket.authorizationError, certificate: socket.getPeerX509Certificate() }, null);
  if (refusal) {
    socket.destroy();
    throw refusal;
  }
  return socket;
}

async function streamFeatures(reader: ElementReader): Promise<Element> {
  const features = await reader.next();
  if (!features.is('features', NS_STREAMS)) throw new Error(`The server sent <${features.name}> instead of its stream features.`);
  return features;
}

/** Opens an encrypted stream to the server, up to its stream features. Never sends anything else in the clear. */
export async function openPreAuthStream(options: PreAuthOptions): Promise<PreAuthStream> {
  const reader = new ElementReader(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const { host, port, directTls } = options.endpoint;
  let socket: net.Socket | tls.TLSSocket;
  const listen = (s: net.Socket) => {
    s.setEncoding('utf8');
    s.on('data', (text: string) => reader.feed(text));
    s.on('error', (error) => reader.fail(error));
    s.on('close', () => reader.fail(Object.assign(new Error('The server closed the connection.'), { code: 'ECONNRESET' })));
  };
  if (directTls) {
    socket = await secureSocket(options);
    listen(socket);
  } else {
    const plain = net.connect({ host, port });
    await connected(plain, 'connect', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    socket = plain;
    listen(plain);
    try {
      plain.write(header(options.domain));
      const offered = await streamFeatures(reader);
      if (!offered.getChild('starttls', NS_TLS)) throw new InsecureStreamError();
      plain.write(xml('starttls', { xmlns: NS_TLS }).toString());
      const answer = await reader.next();
      if (!answer.is('proceed', NS_TLS)) throw new Error('The server refused to start TLS.');
      plain.removeAllListeners('data');
      plain.removeAllListeners('close');
      socket = await secureSocket(options, plain);
      reader.restart();
      listen(socket);
    } catch (error) {
      plain.destroy();
      throw error;
    }
  }
  const secure = socket;
  try {
    reader.restart();
    secure.write(header(options.domain));
    const features = await streamFeatures(reader);
    let nextId = 0;
    return {
      features,
      async request(iq) {
        const id = `reg-${++nextId}`;
        iq.attrs.id = id;
        secure.write(iq.toString());
        for (;;) {
          const answer = await reader.next();
          // Nothing else is expected before a login; anything that is not our answer is ignored.
          if (!answer.is('iq') || answer.attrs.id !== id) continue;
          if (answer.attrs.type === 'result') return answer;
          const error = answer.getChild('error');
          const condition = error?.children.find((c): c is Element => typeof c !== 'string' && c.attrs.xmlns === NS_STANZAS && c.name !== 'text');
          throw new StanzaError(condition?.name ?? 'undefined-condition', error?.getChildText('text', NS_STANZAS) ?? undefined);
        }
      },
      close() {
        secure.end('</stream:stream>');
        setTimeout(() => secure.destroy(), 1_000).unref();
      },
    };
  } catch (error) {
    secure.destroy();
    throw error;
  }
}
