import { connect, createServer, type Socket } from 'node:net';

export interface TcpGate {
  /** `target` with its host and port replaced by the gate's. */
  url: string;
  /** The network goes away: open connections are dropped and new ones refused until `open()`. */
  cut(): void;
  open(): void;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of a server, so a test can take the network away from one
 * client and give it back. Unlike refusing a login (Redis ACL off), nothing the client
 * sends in between reaches the server.
 */
export async function startTcpGate(target: string): Promise<TcpGate> {
  const upstream = new URL(target);
  const live = new Set<Socket>();
  let cut = false;
  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const to = connect(Number(upstream.port), upstream.hostname);
    for (const s of [client, to]) {
      live.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        live.delete(s);
        client.destroy();
        to.destroy();
      });
    }
    client.pipe(to);
    to.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the gate is not listening on TCP');
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    cut() {
      cut = true;
      for (const s of live) s.destroy();
    },
    open() {
      cut = false;
    },
    async close() {
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
