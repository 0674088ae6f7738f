import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';
import { eventually, mxcPath, raw, storeFiles, testImage, upload, V1, V3 } from './media-http.ts';

const LIMIT = 64 * 1024;
// Everything this server stores is uploaded after the freeze; a test backdates a row to
// stand for media uploaded before it.
const FREEZE = Date.now();

const {
  hs,
  users: [alice],
} = withHomeserver({
  users: ['limits_alice'],
  config: { media: { max_upload_bytes: LIMIT, legacy_freeze_after_ts: FREEZE, max_image_pixels: 10_000 } },
});

const mediaRows = async () => (await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from media`)[0]!.n;
const store = () => storeFiles(hs.config.media.store_dir);

describe('size limits', () => {
  it('advertises the media limit, not the JSON one', async () => {
    const res = await raw(hs.url, 'GET', `${V1}/config`, { token: alice.accessToken });
    expect(res.body).toEqual({ 'm.upload.size': LIMIT });
  });

  it('accepts an upload of exactly the limit', async () => {
    const res = await upload(hs.url, alice, Buffer.alloc(LIMIT, 1));
    expect(res.status).toBe(200);
  });

  it('refuses an upload declared over the limit with 413 M_TOO_LARGE, storing nothing', async () => {
    const files = store();
    const rows = await mediaRows();
    const res = await upload(hs.url, alice, Buffer.alloc(LIMIT + 1, 2));
    expectMatrixError(res, 413, 'M_TOO_LARGE');
    expectMatchesSpec('content-repo.yaml', '/media/v3/upload', 'POST', 413, res.body);
    expect(store()).toEqual(files);
    expect(await mediaRows()).toBe(rows);
  });

  it('refuses a chunked upload once it passes the limit, and removes what it had written', async () => {
    const files = store();
    const rows = await mediaRows();
    const chunk = Buffer.alloc(16 * 1024, 3);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Twice the limit, in pieces: no Content-Length, so only counting can stop it.
        if (sent >= 2 * LIMIT) controller.close();
        else {
          sent += chunk.length;
          controller.enqueue(chunk);
        }
      },
    });
    const res = await fetch(`${hs.url}${V3}/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errcode: string }).errcode).toBe('M_TOO_LARGE');
    expect(await eventually(() => JSON.stringify(store()) === JSON.stringify(files))).toBe(true);
    expect(await mediaRows()).toBe(rows);
  });

  it('refuses an oversized PUT to a created URI, which stays empty', async () => {
    const created = await raw(hs.url, 'POST', '/_matrix/media/v1/create', { token: alice.accessToken });
    const mxc = created.body.content_uri as string;
    const files = store();
    const res = await raw(hs.url, 'PUT', `${V3}/upload/${mxcPath(mxc)}`, { token: alice.accessToken, body: Buffer.alloc(LIMIT + 10) });
    expectMatrixError(res, 413, 'M_TOO_LARGE');
    expect(store()).toEqual(files);
    const [row] = await hs.hs.db.sql<{ sha256: string | null }[]>`select sha256 from media where media_id = ${mxc.split('/').pop()!}`;
    expect(row?.sha256).toBeNull();
  });
});

describe('thumbnail limits', () => {
  it('will not decode an image with more pixels than media.max_image_pixels', async () => {
    const png = await testImage(200, 100);
    const mxc = (await upload(hs.url, alice, png, { contentType: 'image/png' })).body.content_uri as string;
    const res = await raw(hs.url, 'GET', `${V1}/thumbnail/${mxcPath(mxc)}?width=32&height=32`, { token: alice.accessToken });
    expectMatrixError(res, 413, 'M_TOO_LARGE');
    expectMatchesSpec('authed-content-repo.yaml', '/media/thumbnail/{serverName}/{mediaId}', 'GET', 413, res.body);
  });
});

describe('a client that goes away mid-upload', () => {
  it('leaves no file and no row', async () => {
    const files = store();
    const rows = await mediaRows();
    const url = new URL(`${hs.url}${V3}/upload?filename=half.bin`);
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method: 'POST',
      headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/octet-stream', 'content-length': 60_000 },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(30_000, 4));
    // The server is receiving once its temp file exists: then the client vanishes.
    expect(await eventually(() => store().some((f) => f.startsWith('tmp/') && !files.includes(f)))).toBe(true);
    req.destroy();
    expect(await eventually(() => JSON.stringify(store()) === JSON.stringify(files))).toBe(true);
    expect(await mediaRows()).toBe(rows);
  });
});

describe('legacy unauthenticated endpoints, frozen', () => {
  it('serve media uploaded before the freeze without a token, and not media uploaded after it', async () => {
    const before = (await upload(hs.url, alice, Buffer.from('old media'), { contentType: 'text/plain' })).body.content_uri as string;
    await hs.hs.db.sql`update media set created_ts = ${FREEZE - 60_000}, uploaded_ts = ${FREEZE - 60_000}
      where media_id = ${before.split('/').pop()!}`;
    const after = (await upload(hs.url, alice, Buffer.from('new media'), { contentType: 'text/plain' })).body.content_uri as string;

    const old = await raw(hs.url, 'GET', `${V3}/download/${mxcPath(before)}`);
    expect(old.status).toBe(200);
    expect(old.bytes.toString()).toBe('old media');
    expect(old.headers.get('content-security-policy')).toMatch(/^sandbox/);

    const frozen = await raw(hs.url, 'GET', `${V3}/download/${mxcPath(after)}`);
    expectMatrixError(frozen, 404, 'M_NOT_FOUND');
    expectMatrixError(await raw(hs.url, 'GET', `${V3}/thumbnail/${mxcPath(after)}?width=32&height=32`), 404, 'M_NOT_FOUND');
    // Still there for a client with a token.
    expect((await raw(hs.url, 'GET', `${V1}/download/${mxcPath(after)}`, { token: alice.accessToken })).bytes.toString()).toBe('new media');
  });
});
