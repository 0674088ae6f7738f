import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { CS, createRoom, enc, getState, ok, setState } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';
import { dimensions, mxcPath, raw, storeFiles, testImage, upload, V1, V3 } from './media-http.ts';

const {
  hs,
  users: [alice, bob],
} = withHomeserver({ users: ['media_alice', 'media_bob'] });

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function uploaded(bytes: Uint8Array, opts: { contentType?: string; filename?: string } = {}): Promise<string> {
  const res = await upload(hs.url, alice, bytes, opts);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expectMatchesSpec('content-repo.yaml', '/media/v3/upload', 'POST', 200, res.body);
  return res.body.content_uri as string;
}

describe('upload and download', () => {
  it('returns an mxc URI of this server with a 24+ character id, and serves the same bytes back', async () => {
    const bytes = await testImage(64, 48);
    const mxc = await uploaded(bytes, { contentType: 'image/png', filename: 'cat.png' });
    expect(mxc).toMatch(/^mxc:\/\/localhost(:\d+)?\/[A-Za-z0-9]{24,}$/);

    const res = await raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}`, { token: bob.accessToken });
    expect(res.status).toBe(200);
    expect(res.bytes.equals(bytes)).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get('content-disposition')).toBe('inline; filename="cat.png"');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox; default-src 'none'; script-src 'none'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves unsafe types as attachments, and takes the filename from the path when one is given', async () => {
    const mxc = await uploaded(Buffer.from('<script>alert(1)</script>'), { contentType: 'text/html', filename: 'page.html' });
    const res = await raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}`, { token: alice.accessToken });
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="page.html"');

    const named = await raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}/${enc('résumé.html')}`, { token: alice.accessToken });
    expect(named.status).toBe(200);
    expect(named.headers.get('content-disposition')).toBe("attachment; filename*=utf-8''r%C3%A9sum%C3%A9.html");
  });

  it('defaults the type to application/octet-stream and leaves the filename out when the upload had none', async () => {
    const bytes = Buffer.from([0, 1, 2, 3, 255]);
    const mxc = await uploaded(bytes);
    const res = await raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}`, { token: alice.accessToken });
    expect(res.bytes.equals(bytes)).toBe(true);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe('attachment');
  });

  it('stores the same bytes once, however often they are uploaded', async () => {
    const bytes = Buffer.from(`the same bytes ${Date.now()}`);
    const first = await uploaded(bytes, { contentType: 'text/plain' });
    const second = await uploaded(bytes, { contentType: 'text/plain', filename: 'copy.txt' });
    expect(second).not.toBe(first);
    const named = storeFiles(hs.config.media.store_dir).filter((f) => f.endsWith(sha256(bytes)));
    expect(named).toHaveLength(1);
    const rows = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from media where sha256 = ${sha256(bytes)}`;
    expect(rows[0]?.n).toBe(2);
  });

  it('answers 404 M_NOT_FOUND for unknown, malformed and remote media', async () => {
    for (const path of [
      'localhost/AAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'localhost/..%2F..%2Fetc',
      'elsewhere.example/AAAAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      const res = await raw(hs.url, 'GET', `${V1}/download/${path}`, { token: alice.accessToken });
      expectMatrixError(res, 404, 'M_NOT_FOUND');
    }
  });

  it('needs an access token for the authenticated endpoints and for uploads', async () => {
    const mxc = await uploaded(Buffer.from('secret'), { contentType: 'text/plain' });
    expectMatrixError(await raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}`), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await raw(hs.url, 'GET', `${V1}/thumbnail/${mxcPath(mxc)}?width=32&height=32`), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await raw(hs.url, 'GET', `${V1}/config`), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await upload(hs.url, null, Buffer.from('x')), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await raw(hs.url, 'POST', '/_matrix/media/v1/create'), 401, 'M_MISSING_TOKEN');
  });

  it('accepts an upload larger than the JSON body limit (it has its own)', async () => {
    const bytes = Buffer.alloc(hs.config.max_request_body_bytes + 1024, 7);
    const mxc = await uploaded(bytes);
    const res = await raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}`, { token: alice.accessToken });
    expect(res.bytes.equals(bytes)).toBe(true);
  });
});

describe('legacy unauthenticated endpoints, enabled and not frozen (the defaults)', () => {
  it('download and thumbnail without a token', async () => {
    const bytes = await testImage(200, 100);
    const mxc = await uploaded(bytes, { contentType: 'image/png', filename: 'legacy.png' });
    const res = await raw(hs.url, 'GET', `${V3}/download/${mxcPath(mxc)}`);
    expect(res.status).toBe(200);
    expect(res.bytes.equals(bytes)).toBe(true);
    expect(res.headers.get('content-disposition')).toBe('inline; filename="legacy.png"');
    const named = await raw(hs.url, 'GET', `${V3}/download/${mxcPath(mxc)}/other.png?allow_remote=false`);
    expect(named.headers.get('content-disposition')).toBe('inline; filename="other.png"');
    const thumb = await raw(hs.url, 'GET', `${V3}/thumbnail/${mxcPath(mxc)}?width=32&height=32&method=crop`);
    expect(await dimensions(thumb.bytes)).toMatchObject({ width: 32, height: 32 });
  });
});

describe('URL previews (off by default)', () => {
  it('are not an endpoint', async () => {
    const res = await raw(hs.url, 'GET', `${V1}/preview_url?url=${enc('https://matrix.org')}`, { token: alice.accessToken });
    expectMatrixError(res, 404, 'M_UNRECOGNIZED');
  });
});

describe('config', () => {
  it('gives the upload limit on both paths', async () => {
    for (const path of [`${V1}/config`, `${V3}/config`]) {
      const res = await raw(hs.url, 'GET', path, { token: alice.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ 'm.upload.size': hs.config.media.max_upload_bytes });
    }
    expectMatchesSpec('authed-content-repo.yaml', '/media/config', 'GET', 200, { 'm.upload.size': 1 });
  });
});

describe('thumbnails', () => {
  let mxc: string;
  const thumb = async (query: string, token: string | null = alice.accessToken) =>
    raw(hs.url, 'GET', `${V1}/thumbnail/${mxcPath(mxc)}?${query}`, { token });

  it('crops to the requested aspect and scales within the box, never below the request', async () => {
    mxc = await uploaded(await testImage(1000, 800), { contentType: 'image/png', filename: 'big.png' });
    const cases: Array<[string, number, number]> = [
      ['width=96&height=96&method=crop', 96, 96],
      ['width=32&height=32&method=crop', 32, 32],
      // Not an offered size: served from the next larger one.
      ['width=50&height=50&method=crop', 96, 96],
      ['width=320&height=240&method=scale', 300, 240],
      ['width=500&height=400&method=scale', 600, 480],
      // Larger than every offered size: the largest.
      ['width=700&height=700&method=scale', 750, 600],
      // Larger than the image itself: the original.
      ['width=2000&height=2000&method=scale', 1000, 800],
    ];
    for (const [query, width, height] of cases) {
      const res = await thumb(query);
      expect(res.status, `${query}: ${res.bytes.toString().slice(0, 200)}`).toBe(200);
      expect(await dimensions(res.bytes), query).toEqual({ width, height, format: 'png' });
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-disposition')).toBe('inline; filename="thumbnail.png"');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    }
  });

  it('keeps a thumbnail once made, and keeps JPEG as JPEG', async () => {
    const before = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from media_thumbnails`;
    await thumb('width=96&height=96&method=crop');
    const after = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from media_thumbnails`;
    expect(after[0]?.n).toBe(before[0]?.n);

    const jpeg = await uploaded(await testImage(400, 400, 'jpeg'), { contentType: 'image/jpeg' });
    const res = await raw(hs.url, 'GET', `${V1}/thumbnail/${mxcPath(jpeg)}?width=96&height=96&method=crop`, { token: alice.accessToken });
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(await dimensions(res.bytes)).toEqual({ width: 96, height: 96, format: 'jpeg' });
  });

  it('sends a small image as it is rather than upscale it', async () => {
    const small = await testImage(20, 10);
    const tiny = await uploaded(small, { contentType: 'image/png' });
    const res = await raw(hs.url, 'GET', `${V1}/thumbnail/${mxcPath(tiny)}?width=96&height=96&method=crop`, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(res.bytes.equals(small)).toBe(true);
  });

  it('refuses bad parameters with M_INVALID_PARAM or M_MISSING_PARAM', async () => {
    expectMatrixError(await thumb('width=0&height=32'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await thumb('width=-5&height=32'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await thumb('width=abc&height=32'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await thumb('width=32&height=32&method=stretch'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await thumb('width=32&height=32&animated=maybe'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await thumb('height=32'), 400, 'M_MISSING_PARAM');
  });

  it('cannot thumbnail a non-image, nor text dressed up as an image', async () => {
    for (const [bytes, type] of [
      [Buffer.from('just some text'), 'text/plain'],
      [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), 'image/png'],
    ] as const) {
      const m = await uploaded(bytes, { contentType: type });
      const res = await raw(hs.url, 'GET', `${V1}/thumbnail/${mxcPath(m)}?width=32&height=32`, { token: alice.accessToken });
      expectMatrixError(res, 400, 'M_UNKNOWN');
      expectMatchesSpec('authed-content-repo.yaml', '/media/thumbnail/{serverName}/{mediaId}', 'GET', 400, res.body);
    }
  });
});

describe('async upload (/create then PUT)', () => {
  const put = (mxc: string, bytes: Uint8Array, token: string, type = 'text/plain') =>
    raw(hs.url, 'PUT', `${V3}/upload/${mxcPath(mxc)}?filename=later.txt`, { token, body: bytes, headers: { 'content-type': type } });

  it('creates a URI that its creator fills once, and that downloads wait for', async () => {
    const created = await raw(hs.url, 'POST', '/_matrix/media/v1/create', { token: alice.accessToken });
    expect(created.status).toBe(200);
    expectMatchesSpec('content-repo.yaml', '/media/v1/create', 'POST', 200, created.body);
    const mxc = created.body.content_uri as string;
    expect(created.body.unused_expires_at).toBeGreaterThan(Date.now());

    const early = await raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}?timeout_ms=0`, { token: bob.accessToken });
    expectMatrixError(early, 504, 'M_NOT_YET_UPLOADED');
    const earlyThumb = await raw(hs.url, 'GET', `${V1}/thumbnail/${mxcPath(mxc)}?width=32&height=32&timeout_ms=50`, {
      token: bob.accessToken,
    });
    expectMatrixError(earlyThumb, 504, 'M_NOT_YET_UPLOADED');

    expectMatrixError(await put(mxc, Buffer.from('not yours'), bob.accessToken), 403, 'M_FORBIDDEN');

    // A download that starts before the upload gets the content once it arrives.
    const waiting = raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}?timeout_ms=10000`, { token: bob.accessToken });
    await new Promise((r) => setTimeout(r, 200));
    const done = await put(mxc, Buffer.from('arrived later'), alice.accessToken);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toEqual({});
    const got = await waiting;
    expect(got.status).toBe(200);
    expect(got.bytes.toString()).toBe('arrived later');
    expect(got.headers.get('content-disposition')).toBe('inline; filename="later.txt"');

    const again = await put(mxc, Buffer.from('overwrite'), alice.accessToken);
    expectMatrixError(again, 409, 'M_CANNOT_OVERWRITE_MEDIA');
    expectMatchesSpec('content-repo.yaml', '/media/v3/upload/{serverName}/{mediaId}', 'PUT', 409, again.body);
  });

  it('refuses a PUT to a URI that /create never made', async () => {
    expectMatrixError(await put('mxc://localhost/NeverCreatedNeverCreated', Buffer.from('x'), alice.accessToken), 404, 'M_NOT_FOUND');
    const direct = await uploaded(Buffer.from('direct'), { contentType: 'text/plain' });
    expectMatrixError(await put(direct, Buffer.from('x'), alice.accessToken), 409, 'M_CANNOT_OVERWRITE_MEDIA');
  });
});

describe('avatars', () => {
  it('a profile avatar_url and a room avatar can name uploaded media, which then downloads', async () => {
    const bytes = await testImage(128, 128);
    const mxc = await uploaded(bytes, { contentType: 'image/png', filename: 'me.png' });
    ok(await alice.client.put(`${CS}/profile/${enc(alice.userId)}/avatar_url`, { avatar_url: mxc }));
    const profile = ok(await bob.client.get(`${CS}/profile/${enc(alice.userId)}`));
    expect(profile.avatar_url).toBe(mxc);

    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await setState(alice, roomId, 'm.room.avatar', '', { url: mxc });
    expect((await getState(alice, roomId, 'm.room.avatar')).url).toBe(mxc);

    const avatar = await raw(hs.url, 'GET', `${V1}/thumbnail/${mxcPath(profile.avatar_url as string)}?width=32&height=32&method=crop`, {
      token: bob.accessToken,
    });
    expect(avatar.status).toBe(200);
    expect(await dimensions(avatar.bytes)).toMatchObject({ width: 32, height: 32 });
  });
});
