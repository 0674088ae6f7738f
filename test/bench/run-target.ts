import { loadavg } from 'node:os';
import { sleep } from './http.ts';
import { registerUsers } from './matrix.ts';
import type { ScenarioName, Scale } from './options.ts';
import { runFanout, type FanoutOutcome } from './scenarios/fanout.ts';
import { runInitialSync, type InitialSyncOutcome } from './scenarios/initial-sync.ts';
import { runJoin, type JoinOutcome } from './scenarios/join.ts';
import { runKeysClaim, type KeysClaimOutcome } from './scenarios/keys-claim.ts';
import { runLongpoll, type LongpollOutcome } from './scenarios/longpoll.ts';
import { runMedia, type MediaOutcome } from './scenarios/media.ts';
import { readMem } from './scenarios/memory.ts';
import { runSearch, type SearchOutcome } from './scenarios/search.ts';
import { runSend, type SendOutcome } from './scenarios/send.ts';
import type { ResetStats } from './http.ts';
import { round } from './stats.ts';
import { isPeer, TARGET_LABELS, type RunningTarget, type TargetName } from './targets/types.ts';
import type { WorkerPool } from './workers.ts';

/** Every scenario against one running homeserver; failures are collected, not thrown. */

export interface TargetResult {
  name: TargetName;
  label: string;
  version: string;
  database: string;
  startupSeconds: number;
  idleRssMB: number;
  /** 1-minute load average of the machine before and after this target's run. */
  loadavg: { before: number; after: number };
  usersRegistered: number;
  registerSeconds: number;
  send?: SendOutcome;
  fanout?: FanoutOutcome;
  initialSync?: InitialSyncOutcome;
  join?: JoinOutcome[];
  longpoll?: LongpollOutcome;
  keysClaim?: KeysClaimOutcome;
  media?: MediaOutcome;
  search?: SearchOutcome;
  /**
   * A peer's answers that break what a scenario checks (a one-time key handed out twice, a
   * search result without the word): recorded and shown, not a failure of the run. The same
   * from CommComms is an error.
   */
  findings: string[];
  /** Connection resets the load workers saw against this target (http.ts). */
  resets: ResetStats;
  errors: string[];
  seconds: number;
}

export function usersNeeded(scale: Scale, scenarios: readonly ScenarioName[]): number {
  const needs = [1];
  if (scenarios.includes('send')) needs.push(scale.send.users);
  if (scenarios.includes('fanout')) needs.push(scale.fanout.clients + 1);
  if (scenarios.includes('join')) needs.push(Math.max(...scale.join.sizes) + scale.join.joiners);
  if (scenarios.includes('longpoll')) needs.push(scale.longpoll.clients + scale.longpoll.senders);
  if (scenarios.includes('keys-claim')) needs.push(scale.keysClaim.devices + scale.keysClaim.claimers);
  if (scenarios.includes('media')) needs.push(scale.media.uploaders);
  if (scenarios.includes('search')) needs.push(scale.search.senders);
  return Math.max(...needs);
}

export async function benchTarget(
  target: RunningTarget,
  o: { scale: Scale; scenarios: readonly ScenarioName[]; pool: WorkerPool; log: (s: string) => void },
): Promise<TargetResult> {
  const { scale, scenarios, pool, log } = o;
  const began = Date.now();
  const result: TargetResult = {
    name: target.name,
    label: TARGET_LABELS[target.name],
    version: target.version,
    database: target.database,
    startupSeconds: round(target.startupMs / 1000, 1),
    idleRssMB: Number.NaN,
    loadavg: { before: round(loadavg()[0]!, 2), after: Number.NaN },
    usersRegistered: 0,
    registerSeconds: 0,
    resets: { retried: 0, failed: 0, recent: [] },
    findings: [],
    errors: [],
    seconds: 0,
  };
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const t = Date.now();
    try {
      const r = await fn();
      log(`  ${name}: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      return r;
    } catch (e) {
      const msg = `${name}: ${(e as Error).message}`;
      result.errors.push(msg);
      log(`  ${msg}`);
      return undefined;
    }
  };

  const report = (scenario: string, errors: string[]) => {
    result.errors.push(...errors.map((e) => `${scenario}: ${e}`));
    log(`  ${scenario}: ${errors.length} error(s), first: ${errors.slice(0, 3).join(' | ')}`);
  };
  /** Wrong answers: errors from CommComms, findings from a peer. */
  const judge = (scenario: string, problems: string[]) => {
    if (problems.length === 0) return;
    if (!isPeer(target.name)) return report(scenario, problems);
    result.findings.push(...problems.map((p) => `${scenario}: ${p}`));
    log(`  ${scenario}: FINDING (a peer's answers, not a failure of the run): ${problems.slice(0, 3).join(' | ')}`);
  };

  // Reset counts from earlier targets are not this one's.
  await collectResets(pool);
  // Idle: started, nothing asked of it yet but /versions.
  await sleep(2000);
  result.idleRssMB = round(readMem(target.pid).rssMB, 1);
  const count = usersNeeded(scale, scenarios);
  const t = Date.now();
  const users = (await step(`register ${count} users`, () => registerUsers(target, count, 'p', scale.setupConcurrency))) ?? [];
  result.usersRegistered = users.length;
  result.registerSeconds = round((Date.now() - t) / 1000, 1);
  const base = { server: target, pool, setupConcurrency: scale.setupConcurrency };

  if (users.length === count) {
    if (scenarios.includes('send')) {
      result.send = await step('send', () =>
        runSend({ ...base, users, scale: scale.send, pid: target.pid, dbName: target.dbName, dbSize: target.dbSize }),
      );
      if (result.send?.errors.length) report('send', result.send.errors);
    }
    if (scenarios.includes('fanout')) {
      result.fanout = await step('fan-out', async () => {
        const { roomId: _room, ...r } = await runFanout({ ...base, sender: users[0]!, clients: users.slice(1), scale: scale.fanout });
        return r;
      });
      if (result.fanout?.errors.length) report('fan-out', result.fanout.errors);
    }
    if (scenarios.includes('initial-sync'))
      result.initialSync = await step('initial sync', () => runInitialSync({ ...base, scale: scale.initialSync }));
    if (scenarios.includes('join')) result.join = await step('join', () => runJoin({ ...base, users, scale: scale.join, log }));
    if (scenarios.includes('longpoll')) {
      const lp = scale.longpoll;
      result.longpoll = await step(`send while ${lp.clients} long-poll`, () =>
        runLongpoll({ ...base, users, scale: lp, dbName: target.dbName }),
      );
      if (result.longpoll?.errors.length) report('long-poll', result.longpoll.errors);
    }
    if (scenarios.includes('keys-claim')) {
      result.keysClaim = await step('keys-claim', () => runKeysClaim({ ...base, users, scale: scale.keysClaim }));
      if (result.keysClaim?.errors.length) report('keys-claim', result.keysClaim.errors);
      judge('keys-claim', result.keysClaim?.problems ?? []);
    }
    if (scenarios.includes('media')) {
      result.media = await step('media', () => runMedia({ ...base, users, scale: scale.media }));
      if (result.media?.errors.length) report('media', result.media.errors);
    }
    if (scenarios.includes('search')) {
      result.search = await step('search', () => runSearch({ ...base, users, scale: scale.search, log }));
      if (result.search && !result.search.served) log(`  search: not served (${result.search.reason})`);
      else if (result.search) {
        if (result.search.errors.length) report('search', result.search.errors);
        judge('search', result.search.problems);
      }
    }
  }
  result.resets = await collectResets(pool);
  if (result.resets.retried + result.resets.failed > 0)
    log(
      `  connection resets: ${result.resets.retried} retried, ${result.resets.failed} failed; last: ${JSON.stringify(result.resets.recent.slice(-3))}`,
    );
  result.loadavg.after = round(loadavg()[0]!, 2);
  result.seconds = round((Date.now() - began) / 1000, 1);
  return result;
}

/** Every load worker's reset counts since the last collection, summed. */
async function collectResets(pool: WorkerPool): Promise<ResetStats> {
  const all = await Promise.all(pool.workers.map((w) => w.call<ResetStats>({ op: 'http-stats', url: 'http://127.0.0.1/' })));
  return {
    retried: all.reduce((n, r) => n + r.retried, 0),
    failed: all.reduce((n, r) => n + r.failed, 0),
    recent: all.flatMap((r) => r.recent).slice(-20),
  };
}
