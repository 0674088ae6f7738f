import { describe, expect, it } from 'vitest';
import { ApiClient, registerUser } from './support/client.ts';
import { withHomeserver } from './support/with-homeserver.ts';

const { hs } = withHomeserver();

describe('foundation smoke', () => {
  it('registers, logs in and survives a restart', async () => {
    const alice = await registerUser(hs.url, 'alice');
    expect(alice.userId).toBe('@alice:localhost');
    const who = await alice.client.get('/_matrix/client/v3/account/whoami');
    expect(who.body).toMatchObject({ user_id: '@alice:localhost', device_id: alice.deviceId });
    await hs.restart();
    const again = await new ApiClient(hs.url, alice.accessToken).get('/_matrix/client/v3/account/whoami');
    expect(again.status).toBe(200);
  });
});
