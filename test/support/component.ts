// An external component (XEP-0114) on the test server, for benchmarks that need many senders:
// one TCP connection that may send from any JID of its domain. What the server sends back is
// not parsed (a 5,000-occupant room sends it millions of presences); only searched for the
// markers a caller waits for.
import { createHash, randomUUID } from 'node:crypto';
import net from 'node:net';

export type Component = {
  domain: string;
  /** Writes stanzas (XML text) in order; resolves once the socket has taken them. */
  send(stanzas: string[]): Promise<void>;
  /**
   * Resolves once the server has processed everything sent before: a disco#info to `to` from
   * `from` and its answer, which the server routes after the stanzas ahead of it.
   */
  barrier(from: string, to: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

/** Escapes text for an XML attribute or text node. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export async function connectComponent(port: number, domain: string, secret: string): Promise<Component> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  // Each chunk is searched with the end of the one before (a marker may be split across
  // two); only that end is kept.
  let tail = '';
  const watchers = new Set<() => void>();
  let failure: Error | undefined;
  socket.on('data', (chunk: Buffer) => {
    tail += chunk.toString('latin1');
    for (const check of [...watchers]) check();
    tail = tail.slice(-4096);
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', (error) => (failure = error));
  const seen = (pattern: RegExp, timeoutMs: number) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`component ${domain}: no ${pattern} within ${timeoutMs} ms${failure ? ` (${failure.message})` : ''}; last received: ${tail.slice(-300)}`));
      }, timeoutMs);
      const check = () => {
        const match = tail.match(pattern);
        if (!match) return;
        tail = tail.slice(match.index! + match[0].length);
        watchers.delete(check);
        clearTimeout(timer);
        resolve(match);
      };
      watchers.add(check);
      check();
    });
  const write = (text: string) => new Promise<void>((resolve, reject) => socket.write(text, (error) => (error ? reject(error) : resolve())));

  await write(`<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'>`);
  const [, streamId] = await seen(/<stream:stream[^>]*\sid=['"]([^'"]+)['"]/, 10_000);
  await write(`<handshake>${createHash('sha1').update(`${streamId}${secret}`).digest('hex')}</handshake>`);
  await seen(/<handshake\s*\/>|<handshake><\/handshake>/, 10_000);

  return {
    domain,
    async send(stanzas) {
      // In chunks: one write per stanza would cost a syscall each.
      for (let i = 0; i < stanzas.length; i += 500) await write(stanzas.slice(i, i + 500).join(''));
    },
    async barrier(from, to, timeoutMs = 600_000) {
      const id = `barrier-${randomUUID()}`;
      const answered = seen(new RegExp(`id=['"]${id}['"]`), timeoutMs);
      await write(`<iq type='get' id='${id}' from='${escapeXml(from)}' to='${escapeXml(to)}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      await answered;
    },
    async close() {
      socket.end('</stream:stream>');
      await closed;
    },
  };
}
