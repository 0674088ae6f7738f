import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, type Options } from './options.ts';
import { runProfile } from './profile-run.ts';
import { machine, renderTable } from './report.ts';
import { benchTarget, type TargetResult } from './run-target.ts';
import { ensureDendrite, type DendriteInstall } from './dendrite/setup.ts';
import { measureCommitCeiling, type PgbenchResult } from './pgbench.ts';
import { ensureSynapse, type SynapseInstall } from './synapse/setup.ts';
import { startCommComms } from './targets/commcomms.ts';
import { ADMIN_URL, ensurePostgres, redact } from './targets/postgres.ts';
import { startDendrite } from './targets/dendrite.ts';
import { startSynapse } from './targets/synapse.ts';
import { isPeer, TARGET_LABELS, type RunningTarget, type TargetName } from './targets/types.ts';
import { WorkerPool } from './workers.ts';

/**
 * `npm run bench [-- --quick]`: starts each homeserver in turn (CommComms on PGlite,
 * CommComms on PostgreSQL, Synapse and Dendrite on PostgreSQL), drives the scenarios at
 * it from load-generator processes, prints one table with every figure's factor against
 * the best peer on that figure, and writes the raw results to test/bench/out/. Exits
 * non-zero if any request failed or the fan-out lost or duplicated an event.
 */

interface Installs {
  synapse?: SynapseInstall | undefined;
  dendrite?: DendriteInstall | undefined;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const log = (s: string) => console.log(`[bench] ${s}`);

async function start(name: TargetName, installs: Installs): Promise<RunningTarget> {
  if (name === 'synapse') {
    if (!installs.synapse?.ok) throw new Error('Synapse is not installed');
    return startSynapse(installs.synapse);
  }
  if (name === 'dendrite') {
    if (!installs.dendrite?.ok) throw new Error('Dendrite is not installed');
    return startDendrite(installs.dendrite);
  }
  return startCommComms({ engine: name === 'commcomms-pglite' ? 'pglite' : 'postgres' });
}

async function compare(opts: Options, outDir: string): Promise<number> {
  const began = Date.now();
  const { scale, targets } = opts;
  log(`${scale.mode} mode; targets: ${targets.join(', ')}; scenarios: ${opts.scenarios.join(', ')}`);
  log(`machine: ${JSON.stringify(machine())}`);
  const needPg = targets.some((t) => t !== 'commcomms-pglite');
  const pgVersion = needPg ? await ensurePostgres(log) : undefined;
  if (pgVersion) log(`PostgreSQL ${pgVersion} at ${redact(ADMIN_URL)}`);
  let install: SynapseInstall | undefined;
  if (targets.includes('synapse')) {
    install = pgVersion ? ensureSynapse(log) : { ok: false, reason: 'no PostgreSQL server to run it on' };
    if (install.ok)
      log(
        `Synapse ${install.version} (${install.python})${install.installMs ? `, installed this run in ${(install.installMs / 1000).toFixed(0)} s` : ', cached'}`,
      );
    else log(`SYNAPSE UNAVAILABLE: ${install.reason}. Running without it.`);
  }
  let dendrite: DendriteInstall | undefined;
  if (targets.includes('dendrite')) {
    dendrite = pgVersion ? ensureDendrite(log) : { ok: false, reason: 'no PostgreSQL server to run it on' };
    if (dendrite.ok)
      log(
        `Dendrite ${dendrite.version} (${dendrite.bin})${dendrite.installMs ? `, built this run in ${(dendrite.installMs / 1000).toFixed(0)} s` : ', cached'}`,
      );
    else log(`DENDRITE UNAVAILABLE: ${dendrite.reason}. Running without it.`);
  }
  // The PostgreSQL's own commit-rate ceiling, before any server loads it.
  let pgbench: PgbenchResult | undefined;
  if (pgVersion && opts.scenarios.includes('send')) {
    pgbench = await measureCommitCeiling(scale.pgbench).catch((e: unknown) => ({ ok: false as const, reason: String(e) }));
    log(
      pgbench.ok
        ? `pgbench ceiling: ${pgbench.tps.toFixed(0)} one-INSERT commits/s (${pgbench.clients} clients, ${pgbench.seconds} s)`
        : `pgbench ceiling unavailable: ${pgbench.reason}`,
    );
  }

  const pool = await WorkerPool.start(scale.workers);
  const results: TargetResult[] = [];
  const failures: string[] = [];
  const skipped: Record<string, string> = {};
  try {
    for (const name of targets) {
      if (name !== 'commcomms-pglite' && !pgVersion) {
        skipped[name] = 'no PostgreSQL server';
        continue;
      }
      if (name === 'synapse' && !install?.ok) {
        skipped[name] = install?.reason ?? 'not installed';
        continue;
      }
      if (name === 'dendrite' && !dendrite?.ok) {
        skipped[name] = dendrite?.reason ?? 'not installed';
        continue;
      }
      log(`${TARGET_LABELS[name]}: starting`);
      let target: RunningTarget;
      try {
        target = await start(name, { synapse: install, dendrite });
      } catch (e) {
        failures.push(`${name}: could not start: ${(e as Error).message}`);
        log(failures.at(-1)!);
        continue;
      }
      log(
        `${TARGET_LABELS[name]}: ${target.version} up in ${(target.startupMs / 1000).toFixed(1)} s (pid ${target.pid}, ${target.database})`,
      );
      try {
        const r = await benchTarget(target, { scale, scenarios: opts.scenarios, pool, log });
        results.push(r);
        for (const e of r.errors) failures.push(`${name}: ${e}`);
        if (r.errors.length) log(`${TARGET_LABELS[name]} server output (tail):\n${target.output().split('\n').slice(-15).join('\n')}`);
        log(`${TARGET_LABELS[name]}: finished in ${r.seconds} s`);
      } finally {
        await target.stop();
      }
    }
  } finally {
    await pool.close();
  }

  const table = renderTable(scale, results, { pgbenchTps: pgbench?.ok ? pgbench.tps : undefined });
  console.log(
    `\nCommComms vs the best of Synapse and Dendrite on each figure, ${scale.mode} mode (× best peer: how many times better; > 1 is better)\n`,
  );
  console.log(table);
  if (!results.some((r) => isPeer(r.name))) console.log(`\nNo peer measured; ratios are n/a.`);
  for (const [name, why] of Object.entries(skipped)) console.log(`${name}: skipped (${why})`);
  for (const r of results)
    if (r.findings.length)
      console.log(
        `\n${r.label} findings (its answers broke a check; not a failure of the run):\n${r.findings.map((f) => `  - ${f}`).join('\n')}`,
      );

  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const report = {
    startedAt: new Date(began).toISOString(),
    seconds: Math.round((Date.now() - began) / 1000),
    mode: scale.mode,
    scale,
    machine: machine(),
    postgres: pgVersion ?? null,
    synapse: install ?? null,
    dendrite: dendrite ?? null,
    pgbench: pgbench ?? null,
    skipped,
    results,
    failures,
    table,
  };
  const file = join(outDir, `bench-${scale.mode}-${stamp}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(report, null, 2));
  console.log(`\nwrote ${file} (${report.seconds} s in all)`);
  if (failures.length > 0) {
    console.error(`\nBENCH FAILED: ${failures.length} problem(s):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    return 1;
  }
  return 0;
}

const opts = parseOptions(process.argv.slice(2));
const outDir = opts.outDir ?? join(HERE, 'out');
const run = opts.profile ? runProfile(opts, outDir, log) : compare(opts, outDir);
run.then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error('[bench] failed:', e);
    process.exit(1);
  },
);
