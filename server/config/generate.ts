import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';

export interface GenerateOptions {
  serverName: string;
  port: number;
  bindAddress: string;
  databaseUrl?: string | null;
}

/**
 * The config written on first start. A development config (bound to loopback)
 * allows open registration so Element can sign up at once; bound anywhere else,
 * registration needs a token unless the operator opts in.
 */
export function generateConfigYaml(opts: GenerateOptions): string {
  const loopback = isLoopback(opts.bindAddress);
  // public_baseurl is left out: it is derived from the listener until the operator
  // puts the homeserver behind a proxy and sets it.
  const doc = {
    server_name: opts.serverName,
    listeners: [{ port: opts.port, bind_addresses: [opts.bindAddress], type: 'http', resources: ['client', 'federation', 'metrics'] }],
    data_dir: '.',
    database: { url: opts.databaseUrl ?? null, max_connections: 10 },
    redis: { url: null },
    neo4j: { url: null, user: 'neo4j', password: '' },
    temporal: { address: null, namespace: 'default' },
    signing_key_path: 'signing.key',
    registration: {
      enabled: true,
      open: loopback,
      open_on_public_address: false,
      tokens: [],
      shared_secret: randomBytes(32).toString('base64url'),
    },
    auth: { refreshable_access_token_lifetime_ms: 300000, refresh_token_lifetime_ms: null, password_min_length: 8 },
    rate_limits: {
      login: { per_second: 0.17, burst_count: 3 },
      register: { per_second: 0.17, burst_count: 3 },
      message: { per_second: 10, burst_count: 50 },
    },
    max_request_body_bytes: 2097152,
    rooms: { default_room_version: '11' },
    media: {
      max_upload_bytes: 52428800,
      store_dir: 'media',
      enable_legacy_unauthenticated: true,
      legacy_freeze_after_ts: null,
      max_image_pixels: 32000000,
      unused_expires_after_ms: 86400000,
      max_pending_uploads: 10,
      url_preview: { enabled: false, max_bytes: 10485760, timeout_ms: 10000 },
    },
    turn: { uris: [], shared_secret: null, username: null, password: null, user_lifetime_ms: 86400000 },
    presence: {
      idle_timeout_ms: 300000,
      sync_online_timeout_ms: 30000,
      last_active_granularity_ms: 60000,
      sweep_interval_ms: 5000,
      sync_heartbeat_interval_ms: 5000,
    },
    user_directory: { search_all_users: false },
    housekeeping: { interval_ms: 3600000, transaction_ids_kept_ms: 86400000 },
    logging: { level: 'info' },
  };
  return `# CommComms homeserver configuration, generated ${new Date().toISOString()}.\n# Reference: README.md, "Configuration".\n${stringify(doc)}`;
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}
