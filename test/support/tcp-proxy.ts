// A loopback TCP proxy in front of the test server: cut every connection at a moment of the
// test's choosing (a flaky network), or make the server vanish and come back on the same port;
// or play someone on the network path, writing into what the server sends before TLS.
import net from 'node:net';

export type ProxyOptions = {
  /**
   * On every connection, writes `text` to the client right after the first chunk from the
   * server that contains `after` (as an attacker would, e.g. after the stream features).
   */
  inject?: { after: string; text: string };
};

export type TcpProxy = {
  port: number;
  /** Severs every open connection but keeps accepting new ones; returns how many it cut. */
  sever(): number;
  /** Severs every connection and stops listening: the server is gone. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Open connections stay open but carry nothing more, either way (a dead link); new ones work. */
  freeze(): number;
  /**
   * Open connections still carry what the client sends, but nothing comes back: the server
   * gets every stanza and the client hears no ack or answer. New connections work.
   */
  muteReplies(): number;
  /** Connections accepted so far. */
  connections(): number;
  /** What the client wrote on each connection so far (readable until TLS starts). */
  clientWrote(): string[];
  close(): Promise<void>;
};

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1', options: ProxyOptions = {}): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const wrote: string[] = [];
  const pipes = new Set<[net.Socket, net.Socket]>();
  let accepted = 0;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(targetPort, targetHost);
    track(client);
    track(upstream);
    const index = wrote.push('') - 1;
    client.on('data', (chunk: Buffer) => (wrote[index] += chunk.toString('latin1')));
    client.pipe(upstream);
    const { inject } = options;
    if (inject) {
      // Not piped: `freeze` does not hold this direction back.
      let seen: string | null = '';
      upstream.on('data', (chunk: Buffer) => {
        client.write(chunk);
        if (seen === null) return;
        seen += chunk.toString('latin1');
        if (!seen.includes(inject.after)) return;
        seen = null;
        client.write(inject.text);
      });
    } else {
      upstream.pipe(client);
    }
    const pipe: [net.Socket, net.Socket] = [client, upstream];
    pipes.add(pipe);
    client.once('close', () => pipes.delete(pipe));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const port = await listen(0);
  const sever = () => {
    const count = sockets.size;
    for (const socket of [...sockets]) socket.destroy();
    return count;
  };
  const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  return {
    port,
    sever,
    async cut() {
      const closed = stopListening();
      sever();
      await closed;
    },
    async restore() {
      await listen(port);
    },
    freeze() {
      for (const [client, upstream] of pipes) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
      return pipes.size;
    },
    muteReplies() {
      for (const [client, upstream] of pipes) {
        upstream.unpipe(client);
        upstream.pause();
      }
      return pipes.size;
    },
    connections: () => accepted,
    clientWrote: () => [...wrote],
    async close() {
      const closed = stopListening();
      sever();
      await closed;
    },
  };
}
