import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { withHomeserver } from '../support/with-homeserver.ts';
import { mxcPath, raw, upload, V1, V3 } from './media-http.ts';

const {
  hs,
  users: [alice],
} = withHomeserver({
  users: ['restricted_alice'],
  config: { media: { enable_legacy_unauthenticated: false, url_preview: { enabled: true, timeout_ms: 2_000 } } },
});

describe('legacy media switched off', () => {
  it('serves nothing on the unauthenticated endpoints, everything on the authenticated ones', async () => {
    const mxc = (await upload(hs.url, alice, Buffer.from('hello'), { contentType: 'text/plain' })).body.content_uri as string;
    expectMatrixError(await raw(hs.url, 'GET', `${V3}/download/${mxcPath(mxc)}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await raw(hs.url, 'GET', `${V3}/thumbnail/${mxcPath(mxc)}?width=32&height=32`), 404, 'M_NOT_FOUND');
    expect((await raw(hs.url, 'GET', `${V1}/download/${mxcPath(mxc)}`, { token: alice.accessToken })).status).toBe(200);
  });
});

describe('URL previews, switched on', () => {
  const preview = (url: string) => raw(hs.url, 'GET', `${V1}/preview_url?url=${encodeURIComponent(url)}`, { token: alice.accessToken });

  it('refuse loopback, private and link-local addresses, by name or by number', async () => {
    for (const url of [
      `${hs.url}/_matrix/client/versions`,
      'http://localhost:1/',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:8008/',
      'http://[::ffff:127.0.0.1]/',
    ]) {
      expectMatrixError(await preview(url), 403, 'M_FORBIDDEN');
    }
  });

  it('refuse what is not an http(s) URL', async () => {
    expectMatrixError(await preview('file:///etc/passwd'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await preview('not a url'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await raw(hs.url, 'GET', `${V1}/preview_url`, { token: alice.accessToken }), 400, 'M_MISSING_PARAM');
  });

  it('need a token', async () => {
    expectMatrixError(await raw(hs.url, 'GET', `${V1}/preview_url?url=https%3A%2F%2Fmatrix.org`), 401, 'M_MISSING_TOKEN');
  });
});
