import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TargetName } from './targets/types.ts';

/** Kept between runs, outside the repo: the Synapse virtualenv, PGlite's initdb template. */
export const CACHE_DIR = process.env.COMMCOMMS_BENCH_CACHE ?? join(homedir(), '.cache', 'commcomms-bench');

/** How big each scenario is. Quick mode is meant to finish in a few minutes for all four targets. */
export interface Scale {
  mode: 'quick' | 'full';
  /** send: N users in M rooms, sending concurrently for T ms (capped at maxRequests in all). */
  send: { users: number; rooms: number; durationMs: number; maxRequests: number };
  /** fan-out: K long-polling clients in one room, S messages one every intervalMs. */
  fanout: { clients: number; messages: number; intervalMs: number };
  /** send while long-polling: N clients in idle rooms long-poll /sync while S senders send for T ms. */
  longpoll: { clients: number; senders: number; clientsPerRoom: number; durationMs: number };
  /** pgbench ceiling: one-INSERT transactions from `clients` connections for `seconds`. */
  pgbench: { clients: number; seconds: number };
  /** initial sync: one user in R rooms with H messages each. */
  initialSync: { rooms: number; messagesPerRoom: number; repeats: number };
  /** join: time for a user to join a local room of each size (median of `joiners`). */
  join: { sizes: number[]; joiners: number };
  /**
   * keys-claim: `devices` devices each upload `keysPerDevice` one-time keys (and a fallback key),
   * then `claimers` concurrent clients make `claims` claims, each of a key of every device.
   */
  keysClaim: { devices: number; keysPerDevice: number; claimers: number; claims: number };
  /** media: `uploaders` concurrent users upload `uploadsPerUploader` JPEGs of about `imageKiB` each; then thumbnails. */
  media: { uploaders: number; uploadsPerUploader: number; imageKiB: number; thumbnailConcurrency: number; warmRounds: number };
  /**
   * search: `senders` users send word-list messages into `rooms` rooms until `messages` (or
   * `seedSeconds` in all, whichever first); searches are timed at `compareAt` messages (what
   * every target reaches) and again at the end. Each search is repeated `repeats` times.
   */
  search: { senders: number; rooms: number; compareAt: number; messages: number; seedSeconds: number; repeats: number };
  /** Load-generator processes. */
  workers: number;
  /** Parallel setup requests (registration, joins, room creation). */
  setupConcurrency: number;
}

export const QUICK: Scale = {
  mode: 'quick',
  send: { users: 50, rooms: 10, durationMs: 8_000, maxRequests: 100_000 },
  fanout: { clients: 50, messages: 15, intervalMs: 250 },
  longpoll: { clients: 200, senders: 4, clientsPerRoom: 10, durationMs: 8_000 },
  pgbench: { clients: 50, seconds: 5 },
  initialSync: { rooms: 20, messagesPerRoom: 3, repeats: 3 },
  join: { sizes: [10, 50], joiners: 3 },
  keysClaim: { devices: 10, keysPerDevice: 300, claimers: 100, claims: 400 },
  media: { uploaders: 10, uploadsPerUploader: 10, imageKiB: 256, thumbnailConcurrency: 10, warmRounds: 3 },
  search: { senders: 50, rooms: 20, compareAt: 300, messages: 3000, seedSeconds: 20, repeats: 3 },
  workers: 2,
  setupConcurrency: 8,
};

export const FULL: Scale = {
  mode: 'full',
  send: { users: 50, rooms: 10, durationMs: 30_000, maxRequests: 1_000_000 },
  fanout: { clients: 1000, messages: 30, intervalMs: 1000 },
  longpoll: { clients: 500, senders: 4, clientsPerRoom: 10, durationMs: 20_000 },
  pgbench: { clients: 50, seconds: 10 },
  initialSync: { rooms: 500, messagesPerRoom: 10, repeats: 3 },
  join: { sizes: [1000, 10_000], joiners: 3 },
  keysClaim: { devices: 20, keysPerDevice: 2000, claimers: 100, claims: 2500 },
  media: { uploaders: 20, uploadsPerUploader: 25, imageKiB: 256, thumbnailConcurrency: 20, warmRounds: 5 },
  search: { senders: 50, rooms: 50, compareAt: 10_000, messages: 100_000, seedSeconds: 720, repeats: 5 },
  workers: 2,
  setupConcurrency: 8,
};

export const ALL_TARGETS: TargetName[] = ['commcomms-pglite', 'commcomms-postgres', 'synapse', 'dendrite'];
export const SCENARIOS = ['send', 'fanout', 'initial-sync', 'join', 'longpoll', 'keys-claim', 'media', 'search'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Options {
  scale: Scale;
  targets: TargetName[];
  scenarios: ScenarioName[];
  /** Profile the CommComms server's send and sync paths (--cpu-prof) instead of the comparison run. */
  profile: boolean;
  outDir: string | undefined;
}

const USAGE = `Usage: npm run bench -- [--quick] [--targets a,b] [--scenarios a,b] [--profile] [--out DIR]

  --quick        small scales, a few minutes (default: full scales, much longer)
  --targets      any of ${ALL_TARGETS.join(', ')} (default: all)
  --scenarios    any of ${SCENARIOS.join(', ')} (default: all; memory and storage ride on send)
  --profile      run send and sync under node --cpu-prof on each CommComms target and print
                 the top self-time functions (no Synapse, no table)
  --out DIR      where JSON (and profiles) go (default test/bench/out)
Scale overrides (numbers): --send-users --send-rooms --send-seconds --fanout-clients
  --fanout-messages --sync-rooms --join-sizes 1000,10000 --longpoll-clients --longpoll-seconds
  --claim-keys (one-time keys per device) --media-uploads (per uploader)
  --search-messages --search-seconds (seeding budget) --search-compare-at`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      targets: { type: 'string' },
      scenarios: { type: 'string' },
      profile: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      'send-users': { type: 'string' },
      'send-rooms': { type: 'string' },
      'send-seconds': { type: 'string' },
      'fanout-clients': { type: 'string' },
      'fanout-messages': { type: 'string' },
      'sync-rooms': { type: 'string' },
      'join-sizes': { type: 'string' },
      'longpoll-clients': { type: 'string' },
      'longpoll-seconds': { type: 'string' },
      'claim-keys': { type: 'string' },
      'media-uploads': { type: 'string' },
      'search-messages': { type: 'string' },
      'search-seconds': { type: 'string' },
      'search-compare-at': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const base = values.quick ? QUICK : FULL;
  const scale: Scale = structuredClone(base);
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  scale.send.users = num(values['send-users'], 'send-users') ?? scale.send.users;
  scale.send.rooms = num(values['send-rooms'], 'send-rooms') ?? scale.send.rooms;
  scale.send.durationMs = (num(values['send-seconds'], 'send-seconds') ?? scale.send.durationMs / 1000) * 1000;
  scale.fanout.clients = num(values['fanout-clients'], 'fanout-clients') ?? scale.fanout.clients;
  scale.fanout.messages = num(values['fanout-messages'], 'fanout-messages') ?? scale.fanout.messages;
  scale.longpoll.clients = num(values['longpoll-clients'], 'longpoll-clients') ?? scale.longpoll.clients;
  scale.longpoll.durationMs = (num(values['longpoll-seconds'], 'longpoll-seconds') ?? scale.longpoll.durationMs / 1000) * 1000;
  scale.initialSync.rooms = num(values['sync-rooms'], 'sync-rooms') ?? scale.initialSync.rooms;
  const kc = scale.keysClaim;
  const keys = num(values['claim-keys'], 'claim-keys');
  // A quarter more claims than keys, so the fallback keys are handed out too.
  if (keys) Object.assign(kc, { keysPerDevice: keys, claims: Math.ceil(keys * 1.25) });
  scale.media.uploadsPerUploader = num(values['media-uploads'], 'media-uploads') ?? scale.media.uploadsPerUploader;
  const sr = scale.search;
  sr.messages = num(values['search-messages'], 'search-messages') ?? sr.messages;
  sr.seedSeconds = num(values['search-seconds'], 'search-seconds') ?? sr.seedSeconds;
  sr.compareAt = Math.min(sr.messages, num(values['search-compare-at'], 'search-compare-at') ?? sr.compareAt);
  if (values['join-sizes']) scale.join.sizes = values['join-sizes'].split(',').map((s) => num(s, 'join-sizes')!);
  const pick = <T extends string>(raw: string | undefined, all: readonly T[], what: string): T[] => {
    if (!raw) return [...all];
    const list = raw.split(',').map((s) => s.trim()) as T[];
    for (const t of list) if (!all.includes(t)) throw new Error(`unknown ${what} '${t}' (choose from ${all.join(', ')})`);
    return list;
  };
  return {
    scale,
    targets: pick(values.targets, ALL_TARGETS, 'target'),
    scenarios: pick(values.scenarios, SCENARIOS, 'scenario'),
    profile: values.profile ?? false,
    outDir: values.out,
  };
}
