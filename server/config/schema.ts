import { z } from 'zod';
import { STABLE_ROOM_VERSION_IDS } from '../../federation/room-versions.ts';

/**
 * homeserver.yaml, in the spirit of Synapse's. Every key has a default so that a
 * config file may be partial; generate.ts writes a full one on first start.
 * Paths are resolved relative to the directory of the config file.
 */
const rateLimit = z.object({
  per_second: z.number().positive(),
  burst_count: z.number().int().positive(),
});

const listener = z.object({
  port: z.number().int().min(0).max(65535),
  bind_addresses: z.array(z.string().min(1)).min(1).default(['127.0.0.1']),
  type: z.literal('http').default('http'),
  resources: z.array(z.enum(['client', 'federation', 'metrics'])).default(['client', 'federation', 'metrics']),
});

const registrationToken = z.object({
  token: z.string().regex(/^[A-Za-z0-9._~-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9._~-]'),
  uses_allowed: z.number().int().positive().nullable().default(null),
  expiry_time: z.number().int().positive().nullable().default(null),
});

export const configSchema = z.object({
  server_name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/, 'must be a hostname with optional :port'),
  public_baseurl: z.url().optional(),
  listeners: z
    .array(listener)
    .min(1)
    .prefault([{ port: 8008 }]),
  data_dir: z.string().default('.'),
  database: z
    .object({
      /** A postgres:// URL. Absent: embedded PGlite under <data_dir>/pglite. */
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
        .nullable()
        .default(null),
      max_connections: z.number().int().min(1).max(500).default(10),
    })
    .prefault({}),
  redis: z
    .object({
      url: z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// URL')
        .nullable()
        .default(null),
    })
    .prefault({}),
  neo4j: z
    .object({
      url: z.string().nullable().default(null),
      user: z.string().default('neo4j'),
      password: z.string().default(''),
    })
    .prefault({}),
  temporal: z.object({ address: z.string().nullable().default(null), namespace: z.string().default('default') }).prefault({}),
  signing_key_path: z.string().default('signing.key'),
  registration: z
    .object({
      enabled: z.boolean().default(true),
      /** Allow m.login.dummy registration (no token). */
      open: z.boolean().default(false),
      /** Open registration on a non-loopback address must be opted into explicitly. */
      open_on_public_address: z.boolean().default(false),
      tokens: z.array(registrationToken).default([]),
      /** Any non-empty secret is accepted (Complement uses `complement`); a short one is warned about at start. */
      shared_secret: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  auth: z
    .object({
      /** Lifetime of access tokens issued with a refresh token; others do not expire. */
      refreshable_access_token_lifetime_ms: z.number().int().positive().default(300_000),
      refresh_token_lifetime_ms: z.number().int().positive().nullable().default(null),
      password_min_length: z.number().int().min(0).default(8),
    })
    .prefault({}),
  rate_limits: z
    .object({
      login: rateLimit.prefault({ per_second: 0.17, burst_count: 3 }),
      register: rateLimit.prefault({ per_second: 0.17, burst_count: 3 }),
      message: rateLimit.default({ per_second: 10, burst_count: 50 }),
    })
    .prefault({}),
  max_request_body_bytes: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 * 1024),
  rooms: z.object({ default_room_version: z.enum(STABLE_ROOM_VERSION_IDS).default('11') }).prefault({}),
  media: z
    .object({
      /** Larger uploads get 413 M_TOO_LARGE; uploads are exempt from max_request_body_bytes. */
      max_upload_bytes: z
        .number()
        .int()
        .positive()
        .default(50 * 1024 * 1024),
      /** Content-addressed files and upload temp files; relative to data_dir. */
      store_dir: z.string().default('media'),
      /** Serve the deprecated /_matrix/media/v3/download and /thumbnail without a token. */
      enable_legacy_unauthenticated: z.boolean().default(true),
      /** Media uploaded after this time (ms since the epoch) is not served by the unauthenticated endpoints. */
      legacy_freeze_after_ts: z.number().int().nonnegative().nullable().default(null),
      /** Images with more pixels are not thumbnailed (413 M_TOO_LARGE): decoding them costs memory. */
      max_image_pixels: z.number().int().positive().default(32_000_000),
      /** How long an mxc URI from /create waits for its upload (the spec recommends 24 h). */
      unused_expires_after_ms: z.number().int().positive().default(86_400_000),
      /** Created but not yet uploaded mxc URIs one user may hold at once. */
      max_pending_uploads: z.number().int().positive().default(10),
      url_preview: z
        .object({
          enabled: z.boolean().default(false),
          /** Pages larger than this are not read further. */
          max_bytes: z
            .number()
            .int()
            .positive()
            .default(10 * 1024 * 1024),
          /** The whole fetch, redirects included. */
          timeout_ms: z.number().int().positive().default(10_000),
        })
        .prefault({}),
    })
    .prefault({}),
  turn: z
    .object({
      uris: z.array(z.string()).default([]),
      shared_secret: z.string().nullable().default(null),
      username: z.string().nullable().default(null),
      password: z.string().nullable().default(null),
      user_lifetime_ms: z.number().int().positive().default(86_400_000),
    })
    .prefault({}),
  /** Delivery of domain events from the outbox to consumers (server/domain-events). */
  domain_events: z
    .object({
      /** How often to look for events written by other processes; local ones are delivered at once. */
      poll_interval_ms: z.number().int().positive().default(1_000),
      /** Tries per event before it is parked in domain_event_dead_letters. */
      max_attempts: z.number().int().min(1).default(8),
      retry_base_ms: z.number().int().positive().default(500),
      retry_max_ms: z.number().int().positive().default(60_000),
      lease_ms: z.number().int().min(1_000).default(30_000),
      prune_interval_ms: z.number().int().positive().default(60_000),
    })
    .prefault({}),
  /**
   * Presence timers (server/presence), Synapse's `presence` timeouts with its defaults. Each
   * process sweeps and records its /syncs on its own timers; short values are for tests.
   */
  presence: z
    .object({
      /** Online with no activity for this long: unavailable (Synapse's idle_timeout). */
      idle_timeout_ms: z.number().int().positive().default(300_000),
      /** This long after the user's last /sync ended, with none in flight: offline (sync_online_timeout). */
      sync_online_timeout_ms: z.number().int().positive().default(30_000),
      /** After activity a user counts as currently_active for this long (last_active_granularity). */
      last_active_granularity_ms: z.number().int().positive().default(60_000),
      /** How often each process looks for users whose timers ran out. */
      sweep_interval_ms: z.number().int().positive().default(5_000),
      /** How often each process records, in one statement, the /syncs it has in flight. */
      sync_heartbeat_interval_ms: z.number().int().positive().default(5_000),
    })
    // As Synapse requires: otherwise a user would go idle while still counted currently active.
    .refine((p) => p.idle_timeout_ms > p.last_active_granularity_ms, {
      message: 'must be greater than presence.last_active_granularity_ms',
      path: ['idle_timeout_ms'],
    })
    .prefault({}),
  user_directory: z
    .object({
      /** Search every local user, not only those sharing a room or in a public room (Synapse's option of the same name). */
      search_all_users: z.boolean().default(false),
    })
    .prefault({}),
  /** Periodic clean-up of what is kept only for a while. */
  housekeeping: z
    .object({
      /** How often each process runs it. */
      interval_ms: z.number().int().positive().default(3_600_000),
      /** Client transaction ids (sends, to-device) are remembered this long: a retry within it is not done twice. */
      transaction_ids_kept_ms: z.number().int().positive().default(86_400_000),
    })
    .prefault({}),
  logging: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
});

export type FileConfig = z.infer<typeof configSchema>;
