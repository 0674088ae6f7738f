import { describe, expect, it } from 'vitest';
import { expectMatrixError, passwordAuth, passwordLogin, rowCounts } from '../support/accounts.ts';
import { ApiClient } from '../support/client.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const DEVICES = '/_matrix/client/v3/devices';

const {
  hs,
  users: [alice, bob],
} = withHomeserver({ users: ['alice', 'bob'] });

const spec = (path: string, method: string, status: number, body: unknown) =>
  expectMatchesSpec('device_management.yaml', path, method, status, body);

/** A second session of alice on a named device. */
async function aliceDevice(deviceId: string, name?: string): Promise<ApiClient> {
  const r = await passwordLogin(hs.url, 'alice', alice.password, {
    device_id: deviceId,
    ...(name ? { initial_device_display_name: name } : {}),
  });
  expect(r.status).toBe(200);
  return new ApiClient(hs.url, r.body.access_token);
}

describe('GET /devices and /devices/{deviceId}', () => {
  it('lists the user’s own devices, with last-seen details', async () => {
    await aliceDevice('LISTED', 'Listed device');
    const r = await alice.client.get(DEVICES);
    expect(r.status).toBe(200);
    spec('/devices', 'GET', 200, r.body);
    const ids = r.body.devices.map((d: { device_id: string }) => d.device_id);
    expect(ids).toContain(alice.deviceId);
    expect(ids).toContain('LISTED');
    expect(ids).not.toContain(bob.deviceId);
    const mine = r.body.devices.find((d: { device_id: string }) => d.device_id === alice.deviceId);
    expect(mine.last_seen_ip).toBe('127.0.0.1');
    expect(typeof mine.last_seen_ts).toBe('number');
  });

  it('gets one device', async () => {
    const r = await alice.client.get(`${DEVICES}/LISTED`);
    expect(r.status).toBe(200);
    spec('/devices/{deviceId}', 'GET', 200, r.body);
    expect(r.body).toMatchObject({ device_id: 'LISTED', display_name: 'Listed device' });
  });

  it('another user’s device, or an unknown one, is 404 M_NOT_FOUND', async () => {
    expectMatrixError(await alice.client.get(`${DEVICES}/${bob.deviceId}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.get(`${DEVICES}/NOSUCHDEVICE`), 404, 'M_NOT_FOUND');
  });

  it('needs a token', async () => {
    expectMatrixError(await new ApiClient(hs.url).get(DEVICES), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await new ApiClient(hs.url).get(`${DEVICES}/LISTED`), 401, 'M_MISSING_TOKEN');
  });
});

describe('PUT /devices/{deviceId}', () => {
  it('renames a device', async () => {
    const r = await alice.client.put(`${DEVICES}/LISTED`, { display_name: 'Renamed' });
    expect(r.status).toBe(200);
    spec('/devices/{deviceId}', 'PUT', 200, r.body);
    expect((await alice.client.get(`${DEVICES}/LISTED`)).body.display_name).toBe('Renamed');
  });

  it('an empty body changes nothing', async () => {
    expect((await alice.client.put(`${DEVICES}/LISTED`, {})).status).toBe(200);
    expect((await alice.client.get(`${DEVICES}/LISTED`)).body.display_name).toBe('Renamed');
  });

  it('another user’s device is 404 and keeps its name', async () => {
    await bob.client.put(`${DEVICES}/${bob.deviceId}`, { display_name: 'Bob’s' });
    expectMatrixError(await alice.client.put(`${DEVICES}/${bob.deviceId}`, { display_name: 'Hijacked' }), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.put(`${DEVICES}/NOSUCHDEVICE`, { display_name: 'x' }), 404, 'M_NOT_FOUND');
    expect((await bob.client.get(`${DEVICES}/${bob.deviceId}`)).body.display_name).toBe('Bob’s');
  });

  it('a display name of the wrong type is M_BAD_JSON', async () => {
    expectMatrixError(await alice.client.put(`${DEVICES}/LISTED`, { display_name: 7 }), 400, 'M_BAD_JSON');
    expect((await alice.client.get(`${DEVICES}/LISTED`)).body.display_name).toBe('Renamed');
  });
});

describe('DELETE /devices/{deviceId} (UIA m.login.password)', () => {
  it('challenges first, then deletes the device and its tokens with the password', async () => {
    const victim = await aliceDevice('DOOMED');
    const challenge = await alice.client.delete(`${DEVICES}/DOOMED`);
    expect(challenge.status).toBe(401);
    spec('/devices/{deviceId}', 'DELETE', 401, challenge.body);
    expect(challenge.body.flows).toContainEqual({ stages: ['m.login.password'] });
    expect(typeof challenge.body.session).toBe('string');
    expect((await victim.get('/_matrix/client/v3/account/whoami')).status).toBe(200);

    const r = await alice.client.delete(`${DEVICES}/DOOMED`, { auth: passwordAuth(alice.userId, alice.password, challenge.body.session) });
    expect(r.status).toBe(200);
    spec('/devices/{deviceId}', 'DELETE', 200, r.body);
    expectMatrixError(await victim.get('/_matrix/client/v3/account/whoami'), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await alice.client.get(`${DEVICES}/DOOMED`), 404, 'M_NOT_FOUND');
  });

  it('a wrong password is 401 with M_FORBIDDEN inside the UIA body, and deletes nothing', async () => {
    const keeper = await aliceDevice('KEEPER');
    const challenge = await alice.client.delete(`${DEVICES}/KEEPER`);
    const before = await rowCounts(hs.hs.db.sql);
    const r = await alice.client.delete(`${DEVICES}/KEEPER`, {
      auth: passwordAuth(alice.userId, 'wrong password', challenge.body.session),
    });
    expect(r.status).toBe(401);
    spec('/devices/{deviceId}', 'DELETE', 401, r.body);
    expect(r.body.errcode).toBe('M_FORBIDDEN');
    expect(r.body.session).toBe(challenge.body.session);
    expect(r.body.flows).toContainEqual({ stages: ['m.login.password'] });
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
    expect((await keeper.get('/_matrix/client/v3/account/whoami')).status).toBe(200);
  });

  it('another user’s password is refused with 403 M_FORBIDDEN, not another UIA round', async () => {
    await aliceDevice('KEEPER2');
    const challenge = await alice.client.delete(`${DEVICES}/KEEPER2`);
    const r = await alice.client.delete(`${DEVICES}/KEEPER2`, { auth: passwordAuth(bob.userId, bob.password, challenge.body.session) });
    expectMatrixError(r, 403, 'M_FORBIDDEN');
    expect(r.body.flows).toBeUndefined();
    expect((await alice.client.get(`${DEVICES}/KEEPER2`)).status).toBe(200);
  });

  it('a UIA session of another user cannot be borrowed', async () => {
    await aliceDevice('KEEPER3');
    const bobs = await bob.client.delete(`${DEVICES}/${bob.deviceId}`);
    const r = await alice.client.delete(`${DEVICES}/KEEPER3`, { auth: passwordAuth(alice.userId, alice.password, bobs.body.session) });
    expect(r.status).toBe(403);
    expect(r.body.errcode).toBe('M_FORBIDDEN');
    expect((await alice.client.get(`${DEVICES}/KEEPER3`)).status).toBe(200);
  });

  it('another user’s device is 404 and survives', async () => {
    const r = await alice.client.delete(`${DEVICES}/${bob.deviceId}`, { auth: passwordAuth(alice.userId, alice.password) });
    expectMatrixError(r, 404, 'M_NOT_FOUND');
    expect((await bob.client.get('/_matrix/client/v3/account/whoami')).status).toBe(200);
  });
});

describe('POST /delete_devices (UIA m.login.password)', () => {
  it('deletes several devices at once, after the password', async () => {
    const one = await aliceDevice('BULK1');
    const two = await aliceDevice('BULK2');
    const challenge = await alice.client.post('/_matrix/client/v3/delete_devices', { devices: ['BULK1', 'BULK2'] });
    expect(challenge.status).toBe(401);
    spec('/delete_devices', 'POST', 401, challenge.body);
    expect((await one.get('/_matrix/client/v3/account/whoami')).status).toBe(200);

    const r = await alice.client.post('/_matrix/client/v3/delete_devices', {
      devices: ['BULK1', 'BULK2', 'NEVER-EXISTED'],
      auth: passwordAuth(alice.userId, alice.password, challenge.body.session),
    });
    expect(r.status).toBe(200);
    spec('/delete_devices', 'POST', 200, r.body);
    for (const c of [one, two]) expectMatrixError(await c.get('/_matrix/client/v3/account/whoami'), 401, 'M_UNKNOWN_TOKEN');
    const ids = (await alice.client.get(DEVICES)).body.devices.map((d: { device_id: string }) => d.device_id);
    expect(ids).not.toContain('BULK1');
    expect(ids).toContain(alice.deviceId);
  });

  it('cannot delete another user’s devices', async () => {
    const r = await alice.client.post('/_matrix/client/v3/delete_devices', {
      devices: [bob.deviceId],
      auth: passwordAuth(alice.userId, alice.password),
    });
    expect(r.status).toBe(200);
    expect((await bob.client.get('/_matrix/client/v3/account/whoami')).status).toBe(200);
  });

  it('a wrong password is 401 M_FORBIDDEN in the UIA body; nothing is deleted', async () => {
    const survivor = await aliceDevice('SURVIVOR');
    const before = await rowCounts(hs.hs.db.sql);
    const r = await alice.client.post('/_matrix/client/v3/delete_devices', {
      devices: ['SURVIVOR'],
      auth: passwordAuth(alice.userId, 'not it at all'),
    });
    expect(r.status).toBe(401);
    spec('/delete_devices', 'POST', 401, r.body);
    expect(r.body.errcode).toBe('M_FORBIDDEN');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
    expect((await survivor.get('/_matrix/client/v3/account/whoami')).status).toBe(200);
  });

  it('bad bodies change nothing', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    expectMatrixError(await alice.client.post('/_matrix/client/v3/delete_devices', {}), 400, 'M_MISSING_PARAM');
    expectMatrixError(await alice.client.post('/_matrix/client/v3/delete_devices', { devices: 'SURVIVOR' }), 400, 'M_BAD_JSON');
    expectMatrixError(await alice.client.post('/_matrix/client/v3/delete_devices', { devices: [1, 2] }), 400, 'M_BAD_JSON');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });
});
