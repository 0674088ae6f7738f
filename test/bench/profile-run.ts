import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './http.ts';
import type { Options, ScenarioName } from './options.ts';
import { renderSummary, summarise, type ProfileSummary } from './profile.ts';
import { benchTarget } from './run-target.ts';
import { startCommComms } from './targets/commcomms.ts';
import { ensurePostgres } from './targets/postgres.ts';
import { isPeer, TARGET_LABELS } from './targets/types.ts';
import { WorkerPool } from './workers.ts';

/**
 * `npm run bench -- --profile [--quick]`: each CommComms target runs under
 * `node --cpu-prof`, once for the send path and once for the sync paths (fan-out
 * long-polls, then initial/incremental sync), each in a fresh server so one path's
 * warm caches do not colour the other. Only the samples taken during a scenario's
 * measured phase are summarised (setup, such as password hashing at registration,
 * is cut out by time).
 */

const GROUPS: Array<{ name: string; scenarios: ScenarioName[] }> = [
  { name: 'send', scenarios: ['send'] },
  { name: 'sync', scenarios: ['fanout', 'initial-sync'] },
];

export async function runProfile(opts: Options, outDir: string, log: (s: string) => void): Promise<number> {
  const targets = opts.targets.filter((t) => !isPeer(t));
  if (targets.includes('commcomms-postgres') && !(await ensurePostgres(log))) return 1;
  const pool = await WorkerPool.start(opts.scale.workers);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const report: Record<string, Record<string, ProfileSummary>> = {};
  let failed = false;
  try {
    for (const name of targets) {
      for (const group of GROUPS) {
        const dir = join(outDir, 'profiles', `${name}-${group.name}-${stamp}`);
        log(`${TARGET_LABELS[name]}: profiling ${group.name} (${group.scenarios.join(', ')}) into ${dir}`);
        const target = await startCommComms({ engine: name === 'commcomms-pglite' ? 'pglite' : 'postgres', cpuProfDir: dir });
        let result;
        try {
          result = await benchTarget(target, { scale: opts.scale, scenarios: group.scenarios, pool, log });
        } finally {
          await target.stop();
        }
        if (result.errors.length) {
          failed = true;
          log(`errors: ${result.errors.join('; ')}`);
        }
        // The profile is written as the process exits.
        for (let i = 0; i < 50 && !(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.cpuprofile'))); i++) await sleep(100);
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (!file) {
          failed = true;
          log(`no .cpuprofile in ${dir}`);
          continue;
        }
        const windows = {
          send: result.send?.window,
          fanout: result.fanout?.window,
          'initial-sync': result.initialSync?.window,
        };
        for (const scenario of group.scenarios) {
          const w = windows[scenario as keyof typeof windows];
          if (!w) continue;
          const summary = summarise(join(dir, file), 20, w);
          (report[name] ??= {})[scenario] = summary;
          const text = renderSummary(summary, `${TARGET_LABELS[name]} ${scenario}`);
          console.log(`\n${text}`);
          writeFileSync(join(dir, `${scenario}.summary.txt`), `${text}\n`);
        }
        if (result.send) log(`send during profile: ${result.send.eventsPerSec} ev/s, p99 ${result.send.latencyMs.p99} ms`);
        if (result.fanout)
          log(`fan-out during profile: p99 ${result.fanout.delayMs.p99} ms, ${result.fanout.delivered}/${result.fanout.expected}`);
      }
    }
  } finally {
    await pool.close();
  }
  writeFileSync(join(outDir, `profile-${stamp}.json`), JSON.stringify(report, null, 2));
  return failed ? 1 : 0;
}
