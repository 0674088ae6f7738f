import { createClient as sdkClient, type ICreateClientOpts, type MatrixClient } from 'matrix-js-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';
import { matrixError, quietLogger } from '../support/js-sdk.ts';

/**
 * The account lifecycle driven by matrix-js-sdk (the library under Element Web)
 * against a homeserver process started as README says, on a generated config.
 */

let server: SpawnedServer;
beforeAll(async () => {
  server = await spawnServer();
}, 240_000);
afterAll(async () => {
  await server?.dispose();
});

/** The SDK logs every request; quietLogger unless COMMCOMMS_TEST_LOG asks for logs. */
const createClient = (opts: ICreateClientOpts): MatrixClient =>
  sdkClient({ ...(process.env.COMMCOMMS_TEST_LOG ? {} : { logger: quietLogger }), ...opts });

function authedClient(login: { user_id: string; device_id: string; access_token: string; refresh_token?: string }): MatrixClient {
  return createClient({
    baseUrl: server.url,
    userId: login.user_id,
    deviceId: login.device_id,
    accessToken: login.access_token,
    ...(login.refresh_token ? { refreshToken: login.refresh_token } : {}),
  });
}

describe('matrix-js-sdk against a spawned homeserver', () => {
  it('registers, logs in with a refresh token, refreshes, edits the profile, manages devices and logs out', async () => {
    const username = `sdk${Date.now().toString(36)}`;
    const password = 'sdk-password-0123';
    const anon = createClient({ baseUrl: server.url });

    // The server advertises what the SDK needs.
    const versions = await anon.getVersions();
    expect(versions.versions).toContain('v1.1');
    const flows = await anon.loginFlows();
    expect(flows.flows.map((f) => f.type)).toContain('m.login.password');

    // Registration: the first call is the UIA challenge, the second completes m.login.dummy.
    const challenge = await matrixError(() => anon.registerRequest({ username, password }));
    expect(challenge.httpStatus).toBe(401);
    const session = challenge.data.session as string;
    expect(typeof session).toBe('string');
    expect(challenge.data.flows).toEqual(expect.arrayContaining([{ stages: ['m.login.dummy'] }]));
    const registered = await anon.registerRequest({ username, password, auth: { type: 'm.login.dummy', session } });
    expect(registered.user_id).toBe(`@${username}:localhost`);
    expect(registered.access_token).toEqual(expect.any(String));
    expect(registered.device_id).toEqual(expect.any(String));
    const firstDevice = registered.device_id!;

    // A second device by password, asking for a refresh token.
    const login = await anon.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: username },
      password,
      initial_device_display_name: 'sdk test device',
      refresh_token: true,
    });
    expect(login.user_id).toBe(registered.user_id);
    expect(login.device_id).not.toBe(firstDevice);
    expect(login.refresh_token).toEqual(expect.any(String));
    expect(login.expires_in_ms).toBeGreaterThan(0);

    const client = authedClient(login);
    expect(await client.whoami()).toMatchObject({ user_id: login.user_id, device_id: login.device_id });

    // Refresh: a new access token (and refresh token) that works.
    const refreshed = await client.refreshToken(login.refresh_token!);
    expect(refreshed.access_token).toEqual(expect.any(String));
    expect(refreshed.access_token).not.toBe(login.access_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(login.refresh_token);
    expect(refreshed.expires_in_ms).toBeGreaterThan(0);
    client.setAccessToken(refreshed.access_token);
    expect(await client.whoami()).toMatchObject({ user_id: login.user_id, device_id: login.device_id });

    // Profile.
    await client.setDisplayName('SDK Tester');
    expect(await client.getProfileInfo(login.user_id)).toMatchObject({ displayname: 'SDK Tester' });
    expect(await anon.getProfileInfo(login.user_id, 'displayname')).toEqual({ displayname: 'SDK Tester' });

    // Devices: both are listed; deleting the first needs UIA with the password.
    const { devices } = await client.getDevices();
    expect(devices.map((d) => d.device_id).sort()).toEqual([firstDevice, login.device_id].sort());
    expect(devices.find((d) => d.device_id === login.device_id)?.display_name).toBe('sdk test device');

    const uia = await matrixError(() => client.deleteDevice(firstDevice));
    expect(uia.httpStatus).toBe(401);
    expect(uia.data.flows).toEqual(expect.arrayContaining([{ stages: ['m.login.password'] }]));
    const wrong = await matrixError(() =>
      client.deleteDevice(firstDevice, {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: username },
        password: 'not the password',
        session: uia.data.session as string,
      }),
    );
    expect(wrong.httpStatus).toBe(401);
    expect(wrong.errcode).toBe('M_FORBIDDEN');
    await client.deleteDevice(firstDevice, {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: username },
      password,
      session: uia.data.session as string,
    });
    expect((await client.getDevices()).devices.map((d) => d.device_id)).toEqual([login.device_id]);

    // The deleted device's token is dead.
    const gone = await matrixError(() =>
      authedClient({ ...registered, device_id: firstDevice, access_token: registered.access_token! }).whoami(),
    );
    expect(gone.httpStatus).toBe(401);
    expect(gone.errcode).toBe('M_UNKNOWN_TOKEN');

    // Logout kills the current token.
    await client.logout();
    const after = await matrixError(() => authedClient({ ...login, access_token: refreshed.access_token }).whoami());
    expect(after.httpStatus).toBe(401);
    expect(after.errcode).toBe('M_UNKNOWN_TOKEN');
  });
});
