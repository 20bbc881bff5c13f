// A TCP proxy between a client and the test server that can cut every connection through
// it at a moment of the test's choosing, as a flaky network would, or silently stop carrying
// them, as a dead NAT mapping or a stuck router would.
import net from 'node:net';

export type FaultProxy = {
  port: number;
  /** Destroys every open connection (both directions) at once. */
  cut(): number;
  /** Open connections stay open but carry nothing more, either way; new ones work. */
  freeze(): number;
  /** Connections opened so far. */
  connections(): number;
  close(): Promise<void>;
};

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const open = new Set<net.Socket>();
  const pipes = new Set<[net.Socket, net.Socket]>();
  let opened = 0;
  const server = net.createServer((client) => {
    opened++;
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    const pipe: [net.Socket, net.Socket] = [client, upstream];
    pipes.add(pipe);
    client.on('close', () => pipes.delete(pipe));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      const count = open.size;
      for (const socket of [...open]) socket.destroy();
      return count;
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
    connections: () => opened,
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
