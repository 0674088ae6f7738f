import type { Hono, MiddlewareHandler } from 'hono';
import type { Config } from '../config/load.ts';
import type { AppEnv } from '../http/hono-env.ts';
import { ROOM_VERSIONS } from '../../federation/room-versions.ts';

/**
 * Client-server spec versions advertised. A version switches features on in
 * clients (v1.4 the threads list, v1.10 recursive relations), so one is added
 * only when the endpoints it introduces exist. v1.11 is authenticated media
 * (/_matrix/client/v1/media/*, MSC3916), with MSC3967 (no UIA for the first
 * cross-signing keys) and MSC4041 (Retry-After on 429), all served. A later
 * version is added when everything it brings to the client API is.
 */
export const SPEC_VERSIONS = ['v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11'];

/** /versions, .well-known and /capabilities: what a client reads before anything else. */
export function createDiscovery({ config, auth }: { config: Config; auth: MiddlewareHandler<AppEnv> }) {
  const baseUrl = new URL(config.public_baseurl);
  const federationHost = `${baseUrl.hostname.includes(':') ? `[${baseUrl.hostname}]` : baseUrl.hostname}:${baseUrl.port || (baseUrl.protocol === 'https:' ? 443 : 80)}`;

  const capabilities = buildCapabilities();

  return {
    mount(app: Hono<AppEnv>): void {
      app.get('/_matrix/client/versions', (c) =>
        c.json({
          versions: SPEC_VERSIONS,
          // Only what is really served: authenticated media (MSC3916), which clients use before v1.11.
          unstable_features: { 'org.matrix.msc3916.stable': true },
        }),
      );
      app.get('/.well-known/matrix/client', (c) => c.json({ 'm.homeserver': { base_url: config.public_baseurl } }));
      app.get('/.well-known/matrix/server', (c) => c.json({ 'm.server': federationHost }));
      // Clients poll this every 30 s: it is built from config alone.
      app.get('/_matrix/client/v3/capabilities', auth, (c) => c.json(capabilities));
    },
  };

  function buildCapabilities() {
    return {
      capabilities: {
        'm.change_password': { enabled: true },
        'm.room_versions': {
          default: config.rooms.default_room_version,
          available: Object.fromEntries([...ROOM_VERSIONS.keys()].map((v) => [v, 'stable'])),
        },
        'm.set_displayname': { enabled: true },
        'm.set_avatar_url': { enabled: true },
        'm.3pid_changes': { enabled: false },
        'm.get_login_token': { enabled: false },
      },
    };
  }
}
