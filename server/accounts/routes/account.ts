import type { Hono } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import type { AccountsRouteDeps } from './deps.ts';

const authDict = z.record(z.string(), z.unknown()).optional();

export function accountRoutes(app: Hono<AppEnv>, { security, auth }: AccountsRouteDeps): void {
  app.get('/_matrix/client/v3/devices', auth, async (c) => c.json({ devices: await security.listDevices(c.get('requester').userId) }));

  app.get('/_matrix/client/v3/devices/:deviceId', auth, async (c) =>
    c.json(await security.getDevice(c.get('requester').userId, c.req.param('deviceId'))),
  );

  app.put('/_matrix/client/v3/devices/:deviceId', auth, async (c) => {
    const body = await readBody(c, z.object({ display_name: z.string().max(512).optional() }));
    const userId = c.get('requester').userId;
    if (body.display_name === undefined) await security.getDevice(userId, c.req.param('deviceId'));
    else await security.renameDevice(userId, c.req.param('deviceId'), body.display_name);
    return c.json({});
  });

  app.delete('/_matrix/client/v3/devices/:deviceId', auth, async (c) => {
    const body = await readBody(c, z.object({ auth: authDict }));
    const who = c.get('requester');
    await security.getDevice(who.userId, c.req.param('deviceId'));
    await security.deleteDevices(who, [c.req.param('deviceId')], body.auth, c.req.path);
    return c.json({});
  });

  app.post('/_matrix/client/v3/delete_devices', auth, async (c) => {
    const body = await readBody(c, z.object({ devices: z.array(z.string()).max(1000), auth: authDict }));
    await security.deleteDevices(c.get('requester'), body.devices, body.auth, c.req.path);
    return c.json({});
  });

  app.post('/_matrix/client/v3/account/password', auth, async (c) => {
    const body = await readBody(c, z.object({ new_password: z.string().max(512), logout_devices: z.boolean().optional(), auth: authDict }));
    await security.changePassword(c.get('requester'), body.new_password, body.logout_devices ?? true, body.auth, c.req.path);
    return c.json({});
  });

  app.post('/_matrix/client/v3/account/deactivate', auth, async (c) => {
    const body = await readBody(c, z.object({ auth: authDict, erase: z.boolean().optional(), id_server: z.string().optional() }));
    await security.deactivate(c.get('requester'), body.auth, c.req.path);
    return c.json({ id_server_unbind_result: 'no-support' });
  });
}
