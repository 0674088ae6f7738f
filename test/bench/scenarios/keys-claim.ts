import { randomBytes } from 'node:crypto';
import { mapLimit, ok } from '../http.ts';
import { CS, type BenchUser, type Server } from '../matrix.ts';
import type { Scale } from '../options.ts';
import { round, summarize } from '../stats.ts';
import type { ClaimedDevice, KeysClaimResult } from '../worker-protocol.ts';
import type { WorkerPool } from '../workers.ts';

/**
 * keys-claim: D users each upload K signed_curve25519 one-time keys and a fallback key
 * from their device (POST /keys/upload, in batches of 100 as clients do), then C claimers,
 * concurrently from the load workers, make N claims (POST /keys/claim), each asking for a
 * key of every one of the D devices: what Element does when it starts Olm sessions with a
 * room's devices, with everyone doing it to the same devices at once. N exceeds K, so the
 * one-time keys run out during the run and the fallback keys are handed out after them.
 *
 * The harness checks the answers: no one-time key may be handed out twice, every key
 * handed out must be one the device uploaded (id and value), a fallback key may only be
 * handed out once the device's one-time keys are all gone (not the same key to many
 * claimers while unused ones remain), every claim gets a key of every device (the fallback
 * once the one-time keys are gone), and afterwards the server's count of keys left must
 * match the keys never handed out. What breaks these is in `problems`: run-target.ts fails
 * the run on CommComms' and records a peer's as findings (Synapse 1.163 hands the fallback
 * key to concurrent claimers while one-time keys remain; Dendrite 0.13 has no fallback keys).
 */

export interface KeysClaimOutcome {
  devices: number;
  keysPerDevice: number;
  claimers: number;
  /** Claims answered 200. */
  claims: number;
  seconds: number;
  claimsPerSec: number;
  /** Keys handed out per second (one-time and fallback). */
  keysPerSec: number;
  latencyMs: ReturnType<typeof summarize>;
  /** Setup: uploading every device's keys. */
  uploadSeconds: number;
  tally: ClaimTally;
  /** Requests that failed. */
  errors: string[];
  /** Answers that break the rules above. */
  problems: string[];
  window: { start: number; end: number };
}

/** What a device uploaded: its one-time keys (id -> `key`) and its fallback key. */
export interface UploadedKeys {
  oneTime: Map<string, string>;
  fallbackId: string;
  fallbackKey: string;
}

export interface ClaimTally {
  /** One-time keys handed out, and how many distinct ones among them. */
  handedOut: number;
  distinct: number;
  /** handedOut − distinct: a one-time key given to two claimers. */
  duplicated: number;
  fallbacks: number;
  /** Devices whose fallback key was handed out while some of their one-time keys never were. */
  fallbackEarly: number;
  /** Keys whose id the device never uploaded, or whose value is not the one it uploaded under that id. */
  unknown: number;
  /** (claim, device) answered with more than one key. */
  extra: number;
  /** (claim, device) answered with no key at all; `missingWithKeysLeft` of them for a device with one-time keys left. */
  missing: number;
  missingWithKeysLeft: number;
  /** One-time keys never handed out. */
  unused: number;
}

/** Checks every key handed out against what was uploaded (see the scenario's doc). */
export function tallyClaims(got: KeysClaimResult['got'], devices: readonly UploadedKeys[], answeredClaims: readonly number[]): ClaimTally {
  const t: ClaimTally = {
    handedOut: 0,
    distinct: 0,
    duplicated: 0,
    fallbacks: 0,
    fallbackEarly: 0,
    unknown: 0,
    extra: 0,
    missing: 0,
    missingWithKeysLeft: 0,
    unused: 0,
  };
  const seen = devices.map(() => new Set<string>());
  const fellBack = devices.map(() => false);
  const perPair = new Map<string, number>();
  for (const [claim, i, keyId, key] of got) {
    const dev = devices[i];
    if (!dev) {
      t.unknown++;
      continue;
    }
    perPair.set(`${claim}:${i}`, (perPair.get(`${claim}:${i}`) ?? 0) + 1);
    const id = keyId.replace(/^signed_curve25519:/, '');
    if (keyId.startsWith('signed_curve25519:') && dev.oneTime.get(id) === key) {
      t.handedOut++;
      if (seen[i]!.has(id)) t.duplicated++;
      seen[i]!.add(id);
    } else if (keyId === `signed_curve25519:${dev.fallbackId}` && key === dev.fallbackKey) {
      t.fallbacks++;
      fellBack[i] = true;
    } else t.unknown++;
  }
  const left = devices.map((d, i) => d.oneTime.size - seen[i]!.size);
  t.distinct = seen.reduce((n, s) => n + s.size, 0);
  t.unused = left.reduce((a, b) => a + b, 0);
  t.fallbackEarly = fellBack.filter((f, i) => f && left[i]! > 0).length;
  for (const claim of answeredClaims) {
    devices.forEach((_, i) => {
      const n = perPair.get(`${claim}:${i}`) ?? 0;
      if (n > 1) t.extra++;
      if (n === 0) {
        t.missing++;
        if (left[i]! > 0) t.missingWithKeysLeft++;
      }
    });
  }
  return t;
}

/** What is wrong in a tally, as messages (empty: every check passed). */
export function claimProblems(t: ClaimTally): string[] {
  const out: string[] = [];
  if (t.duplicated) out.push(`${t.duplicated} one-time key(s) handed out twice`);
  if (t.unknown) out.push(`${t.unknown} key(s) handed out that the device never uploaded (id or value)`);
  if (t.fallbackEarly)
    out.push(`${t.fallbackEarly} device(s) had their fallback key handed out while one-time keys were left (${t.unused} never handed out)`);
  if (t.extra) out.push(`${t.extra} claim(s) got more than one key of a device`);
  if (t.missingWithKeysLeft) out.push(`${t.missingWithKeysLeft} claim(s) got no key of a device that had one-time keys left`);
  if (t.missing - t.missingWithKeysLeft) out.push(`${t.missing - t.missingWithKeysLeft} claim(s) got no key, not even the fallback key`);
  return out;
}

const b64 = (bytes: number) => randomBytes(bytes).toString('base64').replace(/=+$/, '');
const UPLOAD_BATCH = 100;
/**
 * Dendrite counts one-time keys only up to 100 (clients keep about 50 on the server and
 * only need to know when to upload more), so a count of at least 100 stands for any more.
 */
const COUNT_CAP = 100;
const countMatches = (counted: number, expected: number) =>
  counted === expected || (expected > COUNT_CAP && counted >= COUNT_CAP && counted <= expected);

/** Uploads `count` one-time keys and a fallback key for the user's device, checking the counts the server answers. */
async function uploadKeys(server: Server, user: BenchUser, deviceId: string, count: number): Promise<UploadedKeys> {
  const signed = (extra: object = {}) => ({
    key: b64(32),
    ...extra,
    signatures: { [user.userId]: { [`ed25519:${deviceId}`]: b64(64) } },
  });
  const oneTime = new Map<string, string>();
  const fallback = signed({ fallback: true });
  const fallbackId = 'fallbackAAA';
  for (let first = 0; first < count; first += UPLOAD_BATCH) {
    const batch: Record<string, ReturnType<typeof signed>> = {};
    for (let i = first; i < Math.min(count, first + UPLOAD_BATCH); i++) {
      const k = signed();
      batch[`signed_curve25519:otk${i}`] = k;
      oneTime.set(`otk${i}`, k.key);
    }
    const body = { one_time_keys: batch, ...(first === 0 ? { fallback_keys: { [`signed_curve25519:${fallbackId}`]: fallback } } : {}) };
    const r = await ok<{ one_time_key_counts?: Record<string, number> }>(server.url, 'POST', `${CS}/keys/upload`, {
      token: user.token,
      body,
    });
    const n = r.body.one_time_key_counts?.signed_curve25519 ?? 0;
    if (!countMatches(n, oneTime.size)) throw new Error(`keys/upload: the server counts ${n} one-time keys, ${oneTime.size} were uploaded`);
  }
  return { oneTime, fallbackId, fallbackKey: fallback.key };
}

export async function runKeysClaim(d: {
  server: Server;
  pool: WorkerPool;
  users: BenchUser[];
  scale: Scale['keysClaim'];
  setupConcurrency: number;
}): Promise<KeysClaimOutcome> {
  const { server, pool, scale } = d;
  const need = scale.devices + scale.claimers;
  if (d.users.length < need) throw new Error(`keys-claim needs ${need} users, got ${d.users.length}`);
  const owners = d.users.slice(0, scale.devices);
  const claimers = d.users.slice(scale.devices, need);

  const deviceIds = await mapLimit(owners, d.setupConcurrency, async (u) => {
    const { body } = await ok<{ device_id?: string }>(server.url, 'GET', `${CS}/account/whoami`, { token: u.token });
    if (!body.device_id) throw new Error(`whoami of ${u.userId} has no device_id`);
    return body.device_id;
  });
  const uploadStart = Date.now();
  const uploaded = await mapLimit(owners, d.setupConcurrency, (u, i) => uploadKeys(server, u, deviceIds[i]!, scale.keysPerDevice));
  const uploadSeconds = (Date.now() - uploadStart) / 1000;

  const devices: ClaimedDevice[] = owners.map((u, i) => ({ userId: u.userId, deviceId: deviceIds[i]! }));
  const tokens = claimers.map((u) => u.token);
  const results = await Promise.all(
    pool.splitCount(tokens, scale.claims).map((s) =>
      s.worker.call<KeysClaimResult>({
        op: 'keys-claim',
        url: server.url,
        tokens: s.items,
        devices,
        claims: s.count,
        claimOffset: s.countOffset,
        durationMs: 300_000,
      }),
    ),
  );
  const got = results.flatMap((r) => r.got);
  const answered = results.flatMap((r) => r.answered);
  const tally = tallyClaims(got, uploaded, answered);
  const errors = results.flatMap((r) => r.errors);
  const problems = claimProblems(tally);

  // What the server says is left must be what was never handed out.
  await mapLimit(owners, d.setupConcurrency, async (u, i) => {
    const r = await ok<{ one_time_key_counts?: Record<string, number> }>(server.url, 'POST', `${CS}/keys/upload`, {
      token: u.token,
      body: {},
    });
    const claimed = new Set(got.filter(([, dev, id]) => dev === i && id.startsWith('signed_curve25519:otk')).map(([, , id]) => id));
    const left = r.body.one_time_key_counts?.signed_curve25519 ?? 0;
    if (!countMatches(left, uploaded[i]!.oneTime.size - claimed.size))
      problems.push(
        `device ${i}: the server counts ${left} one-time keys left, ${uploaded[i]!.oneTime.size - claimed.size} were never handed out`,
      );
  });

  const start = Math.min(...results.map((r) => r.start));
  const end = Math.max(...results.map((r) => r.end));
  const seconds = (end - start) / 1000;
  return {
    devices: devices.length,
    keysPerDevice: scale.keysPerDevice,
    claimers: claimers.length,
    claims: answered.length,
    seconds: round(seconds, 2),
    claimsPerSec: round(answered.length / seconds, 1),
    keysPerSec: round(got.length / seconds, 1),
    latencyMs: summarize(results.flatMap((r) => r.latencies)),
    uploadSeconds: round(uploadSeconds, 1),
    tally,
    errors,
    problems,
    window: { start, end },
  };
}
