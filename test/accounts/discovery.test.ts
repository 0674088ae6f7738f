import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { expectMatchesSchemaFile, expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

// Behind a reverse proxy: what discovery advertises comes from public_baseurl.
const { hs } = withHomeserver({ config: { public_baseurl: 'https://matrix.example.org' } });
let anon: ApiClient;
let alice: TestUser;
beforeAll(async () => {
  anon = new ApiClient(hs.url);
  alice = await registerUser(hs.url, 'alice');
});

describe('GET /_matrix/client/versions', () => {
  it('lists spec versions without authentication', async () => {
    const r = await anon.get('/_matrix/client/versions');
    expect(r.status).toBe(200);
    expectMatchesSpec('versions.yaml', '/versions', 'GET', 200, r.body);
    // Every version up to v1.11 (authenticated media), none after it: a client switches on what a version brings.
    expect(r.body.versions).toEqual(Array.from({ length: 11 }, (_, i) => `v1.${i + 1}`));
    // Authenticated media is served: clients before v1.11 look for this flag to use it.
    expect(r.body.unstable_features).toEqual({ 'org.matrix.msc3916.stable': true });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers the same with an access token', async () => {
    const r = await alice.client.get('/_matrix/client/versions');
    expect(r.status).toBe(200);
    expectMatchesSpec('versions.yaml', '/versions', 'GET', 200, r.body);
    expect(r.body).toEqual((await anon.get('/_matrix/client/versions')).body);
  });
});

describe('/.well-known/matrix', () => {
  it('client: points at public_baseurl', async () => {
    const r = await anon.get('/.well-known/matrix/client');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expectMatchesSpec('wellknown.yaml', '/matrix/client', 'GET', 200, r.body);
    expect(r.body).toEqual({ 'm.homeserver': { base_url: 'https://matrix.example.org/' } });
  });

  it('server: delegates federation to the public host and port', async () => {
    const r = await anon.get('/.well-known/matrix/server');
    expect(r.status).toBe(200);
    expectMatchesSpec('../server-server/wellknown.yaml', '/matrix/server', 'GET', 200, r.body);
    expect(r.body).toEqual({ 'm.server': 'matrix.example.org:443' });
  });

  it('login hands out the same well_known', async () => {
    const r = await anon.post('/_matrix/client/v3/login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'alice' },
      password: alice.password,
    });
    expect(r.status).toBe(200);
    expectMatchesSpec('login.yaml', '/login', 'POST', 200, r.body);
    expect(r.body.well_known).toEqual({ 'm.homeserver': { base_url: 'https://matrix.example.org/' } });
  });
});

describe('GET /_matrix/client/v3/capabilities', () => {
  it('needs an access token', async () => {
    expectMatrixError(await anon.get('/_matrix/client/v3/capabilities'), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await anon.get('/_matrix/client/v3/capabilities', { token: 'cca_nope' }), 401, 'M_UNKNOWN_TOKEN');
  });

  it('describes the server', async () => {
    const r = await alice.client.get('/_matrix/client/v3/capabilities');
    expect(r.status).toBe(200);
    expectMatchesSpec('capabilities.yaml', '/capabilities', 'GET', 200, r.body);
    const caps = r.body.capabilities;
    expect(caps['m.change_password']).toEqual({ enabled: true });
    expect(caps['m.room_versions'].default).toBe('11');
    expect(caps['m.room_versions'].available['11']).toBe('stable');
  });
});

describe('routing, CORS and errors', () => {
  it('an unknown endpoint is 404 M_UNRECOGNIZED', async () => {
    expectMatrixError(await anon.get('/_matrix/client/v3/no/such/thing'), 404, 'M_UNRECOGNIZED');
    expectMatrixError(await anon.post('/_matrix/client/v3/nope', {}), 404, 'M_UNRECOGNIZED');
    expectMatrixError(await anon.get('/'), 404, 'M_UNRECOGNIZED');
  });

  it('a known endpoint with the wrong method is 405 M_UNRECOGNIZED', async () => {
    expectMatrixError(await anon.request('DELETE', '/_matrix/client/v3/login'), 405, 'M_UNRECOGNIZED');
    expectMatrixError(await anon.get('/_matrix/client/v3/register'), 405, 'M_UNRECOGNIZED');
    expectMatrixError(await anon.put('/_matrix/client/versions', {}), 405, 'M_UNRECOGNIZED');
    // A templated path, with a token so that authentication is not what answers.
    expectMatrixError(await alice.client.post(`/_matrix/client/v3/devices/${alice.deviceId}`, {}), 405, 'M_UNRECOGNIZED');
    expectMatchesSchemaFile('definitions/errors/error.yaml', (await anon.get('/_matrix/client/v3/logout')).body);
  });

  it('answers a CORS preflight with 204 and the CORS headers, on any path', async () => {
    for (const path of ['/_matrix/client/v3/login', '/_matrix/client/v3/account/whoami', '/_matrix/client/v3/unknown']) {
      const res = await fetch(hs.url + path, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/authorization/);
      expect(await res.text()).toBe('');
    }
  });

  it('gives every response a request id, echoing the caller’s', async () => {
    const r = await anon.request('GET', '/_matrix/client/versions', undefined, { headers: { 'x-request-id': 'trace-123' } });
    expect(r.headers.get('x-request-id')).toBe('trace-123');
    const e = await anon.get('/_matrix/client/v3/nope');
    expect(e.headers.get('x-request-id')).toBeTruthy();
    // Error responses are made by the error handler: they carry the CORS headers too.
    expect(e.headers.get('access-control-allow-origin')).toBe('*');
    const unauthorised = await anon.get('/_matrix/client/v3/account/whoami');
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('access-control-allow-origin')).toBe('*');
    expect(unauthorised.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('GET /metrics', () => {
  it('exposes request counts labelled by route pattern, not by URL', async () => {
    await alice.client.get(`/_matrix/client/v3/devices/${alice.deviceId}`);
    await alice.client.get(`/_matrix/client/v3/profile/${encodeURIComponent(alice.userId)}`);
    await anon.get('/_matrix/client/v3/no/such/thing');
    const res = await fetch(`${hs.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE commcomms_http_requests_total counter');
    const lines = text.split('\n').filter((l) => l.startsWith('commcomms_http_requests_total{'));
    const line = (route: string, status: string) =>
      lines.find((l) => l.includes(`route="${route}"`) && l.includes(`status="${status}"`) && l.includes('method="GET"'));
    expect(line('/_matrix/client/v3/devices/:deviceId', '200')).toMatch(/ [1-9]\d*$/);
    expect(line('/_matrix/client/v3/profile/:userId', '200')).toMatch(/ [1-9]\d*$/);
    expect(line('/_matrix/client/versions', '200')).toBeDefined();
    // Concrete ids never become label values: cardinality stays bounded.
    expect(text).not.toContain(alice.deviceId);
    expect(text).not.toContain('no/such/thing');
    expect(text).toContain('commcomms_http_request_duration_seconds_bucket');
  });
});
