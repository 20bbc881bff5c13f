// A stand-in XMPP server speaking direct TLS with a throwaway CA, for what no real server
// would send: it answers the client's stream header with its own and then whatever the test
// scripts (a stanza far past any sane size, a redirect). Records what each client wrote.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { makeCertificates } from './prosody';

export type FakeXmppServer = {
  port: number;
  /** Where its CA and certificate are: another stand-in may present the same. */
  dir: string;
  /** PEM of the CA that signed its certificate. */
  caPem: string;
  /** What the client wrote on each connection, decrypted. */
  received(): string[];
  connections(): number;
  close(): Promise<void>;
};

/** Writes the pieces in turn, waiting whenever the socket's buffer is full; stops if it closes. */
export async function writeAll(socket: tls.TLSSocket, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (socket.destroyed) return;
    if (socket.write(piece)) continue;
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done).off('close', done);
        resolve();
      };
      socket.on('drain', done).on('close', done);
    });
  }
}

/** A message whose body is `bytes` long, as pieces of `pieceSize`: never built as one string. */
export function* hugeMessage(bytes: number, pieceSize = 64 * 1024): Generator<string> {
  yield `<message from='mallory@heron.test/x' type='chat' id='huge'><body>`;
  const piece = 'A'.repeat(pieceSize);
  for (let sent = 0; sent < bytes; sent += pieceSize) yield piece;
  yield '</body></message>';
}

export async function startFakeXmppServer(
  domain: string,
  /** Runs once the client's stream header arrived and ours went out. */
  script: (socket: tls.TLSSocket) => void | Promise<void>,
  options: { sameCertificateAs?: FakeXmppServer } = {},
): Promise<FakeXmppServer> {
  let dir = options.sameCertificateAs?.dir;
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-fake-xmpp-'));
    await makeCertificates(dir, [domain]);
  }
  const received: string[] = [];
  const open = new Set<tls.TLSSocket>();
  const server = tls.createServer({ key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.crt')) }, (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const index = received.push('') - 1;
    let started = false;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      received[index] += chunk.toString('utf8');
      if (started || !received[index]!.includes('<stream:stream')) return;
      started = true;
      socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='fake-${index}' from='${domain}' version='1.0' xml:lang='en'>`);
      void Promise.resolve(script(socket)).catch(() => socket.destroy());
    });
  });
  server.on('tlsClientError', () => {});
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    port,
    dir,
    caPem: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    received: () => [...received],
    connections: () => received.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
