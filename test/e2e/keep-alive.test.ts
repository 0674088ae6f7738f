import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * A client that keeps a connection open between requests (Node's Agent, a sync client
 * between long-polls) must be able to reuse it after an idle gap longer than Node's
 * default keepAliveTimeout (5 s): the server must not close it under the client, which
 * sees that as ECONNRESET on a request the server never read. One raw socket, two
 * requests 6 s apart, so nothing (no agent, no retry) can paper over a close.
 */

const { hs } = withHomeserver();

/** Reads one HTTP/1.1 response with a Content-Length body off the socket. */
function readResponse(socket: Socket, timeoutMs: number): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error, value?: { status: number; headers: string; body: string }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers = buf.subarray(0, end).toString('latin1');
      const length = Number(/^content-length:\s*(\d+)/im.exec(headers)?.[1] ?? Number.NaN);
      if (!Number.isFinite(length)) return done(new Error(`no content-length in ${headers}`));
      if (buf.length < end + 4 + length) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]);
      done(undefined, { status, headers, body: buf.subarray(end + 4, end + 4 + length).toString('utf8') });
    };
    const onClose = () => done(new Error('the server closed the connection'));
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(new Error('no response')), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
  });
}

describe('keep-alive', () => {
  it('reuses a connection after 6 s idle without the server resetting it', { timeout: 30_000 }, async () => {
    const { hostname, port } = new URL(hs.url);
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const ask = () => socket.write(`GET /_matrix/client/versions HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: keep-alive\r\n\r\n`);
    try {
      ask();
      const first = await readResponse(socket, 5_000);
      expect(first.status).toBe(200);
      // The server announces how long it keeps an idle connection; it must cover the gap.
      const announced = Number(/^keep-alive:\s*timeout=(\d+)/im.exec(first.headers)?.[1] ?? 0);
      expect(announced).toBeGreaterThan(6);

      await new Promise((r) => setTimeout(r, 6_000));
      expect(socket.destroyed || socket.readyState !== 'open').toBe(false);
      ask();
      const second = await readResponse(socket, 5_000);
      expect(second.status).toBe(200);
      expect(JSON.parse(second.body)).toHaveProperty('versions');
    } finally {
      socket.destroy();
    }
  });
});
