import { readFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, registerUser } from '../support/client.ts';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';

/**
 * The homeserver as a process: what a registration promised survives kill -9, and
 * SIGTERM lets a request already being served finish before the process exits 0.
 * Each test starts real processes (on the pglite leg from the migrated template;
 * matrix-js-sdk.test.ts covers a first start), hence the long timeouts.
 */

let server: SpawnedServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

const login = (url: string, user: string, password: string) =>
  new ApiClient(url).post('/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password });

describe('crash recovery', () => {
  it(
    'keeps an account whose registration was answered 200, across kill -9 and a restart on the same data',
    { timeout: 240_000 },
    async () => {
      server = await spawnServer({ fromTemplate: true });
      const alice = await registerUser(server.url, 'alice', 'alice-password-1'); // throws unless 200

      const exit = await server.kill('SIGKILL');
      expect(exit.code).not.toBe(0); // the launcher saw its server die; no shutdown ran
      expect(server.running).toBe(false);

      await server.start();
      const res = await login(server.url, 'alice', 'alice-password-1');
      expect(res.status).toBe(200);
      expect(res.body.user_id).toBe('@alice:localhost');
      // The access token issued before the crash was committed too.
      const who = await new ApiClient(server.url, alice.accessToken).get('/_matrix/client/v3/account/whoami');
      expect(who.status).toBe(200);
      expect(who.body).toMatchObject({ user_id: alice.userId, device_id: alice.deviceId });
    },
  );
});

/** The server-side socket of a loopback connection from `clientPort`, from /proc/net/tcp. */
function serverSideRecvQueue(serverPort: number, clientPort: number): number | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, remote, , queues] = [cols[1], cols[2], cols[3], cols[4]];
      if (local?.endsWith(`:${hex(serverPort)}`) && remote?.endsWith(`:${hex(clientPort)}`)) {
        return parseInt(queues!.split(':')[1]!, 16);
      }
    }
  }
  return undefined;
}

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the request in flight (a login), then exits 0', { timeout: 240_000 }, async () => {
    server = await spawnServer({ fromTemplate: true });
    await registerUser(server.url, 'bob', 'bob-password-12');

    // A keep-alive connection, as real clients hold.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const body = JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: 'bob-password-12' });
    let clientPort = 0;
    let written = false; // the whole request handed to the kernel (on loopback: in the server's receive queue)
    const response = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        `${server!.url}/_matrix/client/v3/login`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res: IncomingMessage) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.on('socket', (socket) => socket.on('connect', () => (clientPort = socket.localPort ?? 0)));
      req.on('finish', () => (written = true));
      req.end(body);
    });

    // In flight = the server process has read the whole request off its socket (and
    // so parsed it: the connection is busy, not idle). Only then send SIGTERM.
    for (let i = 0; i < 1000; i++) {
      if (written && clientPort && serverSideRecvQueue(server.port, clientPort) === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(written).toBe(true);
    expect(serverSideRecvQueue(server.port, clientPort)).toBe(0);
    const exited = server.kill('SIGTERM');

    const res = await response;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user_id: '@bob:localhost', access_token: expect.any(String) });
    expect(await exited).toEqual({ code: 0, signal: null });
    agent.destroy();
  });
});
