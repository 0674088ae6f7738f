import { cpus, loadavg, release, totalmem } from 'node:os';
import type { Scale } from './options.ts';
import type { TargetResult } from './run-target.ts';
import { claimProblems } from './scenarios/keys-claim.ts';
import { COMMON_WORD, RARE_WORD } from './scenarios/search-text.ts';
import { isPeer } from './targets/types.ts';

/**
 * The table: one row per figure, one column per target, and for each CommComms
 * column its factor against the BEST peer in that row (Synapse or Dendrite, whichever
 * did better on that figure in the same run; the `best peer` column names it). The
 * factor always reads "times better than the best peer" (ours/theirs for throughput,
 * theirs/ours for times and sizes), so > 1 is better and < 1 is worse.
 */

/** Figures of the whole run, not of one target. */
export interface RunContext {
  /** pgbench's one-INSERT-per-transaction commit rate on the PostgreSQL the targets use. */
  pgbenchTps?: number | undefined;
}

interface Row {
  label: string;
  unit: string;
  better: 'higher' | 'lower' | 'none';
  value: (r: TargetResult) => number | string | undefined;
  /** `factor` is against the best peer. */
  target?: { text: string; met: (value: number, factor: number | undefined, result: TargetResult) => boolean };
}

const fmt = (v: number | string | undefined, unit: string): string => {
  if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return 'n/a';
  if (typeof v === 'string') return v;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
};

export function rows(scale: Scale, ctx: RunContext = {}): Row[] {
  const s = scale.send;
  const k = scale.fanout.clients;
  const lp = scale.longpoll;
  const tps = ctx.pgbenchTps;
  const out: Row[] = [
    {
      label: `send throughput (${s.users} users, ${s.rooms} rooms, ${s.durationMs / 1000} s)`,
      unit: 'ev/s',
      better: 'higher',
      value: (r) => r.send?.eventsPerSec,
      target: { text: '≥ 10× best peer', met: (_, f) => f !== undefined && f >= 10 },
    },
    {
      label: `send throughput, % of pgbench's commit rate${tps ? ` (${Math.round(tps)}/s)` : ''}`,
      unit: '%',
      better: 'none',
      // Only for servers on that PostgreSQL (PGlite commits elsewhere).
      value: (r) => (r.send && r.database.startsWith('PostgreSQL') && tps ? (r.send.eventsPerSec / tps) * 100 : undefined),
      target: { text: '≥ 30 %', met: (v) => v >= 30 },
    },
    { label: 'send latency p50', unit: 'ms', better: 'lower', value: (r) => r.send?.latencyMs.p50 },
    {
      label: `send latency p99 (${s.users} concurrent)`,
      unit: 'ms',
      better: 'lower',
      value: (r) => r.send?.latencyMs.p99,
      target: { text: '< 25 ms', met: (v) => v < 25 },
    },
    {
      label: 'CPU per sent event (server + its database)',
      unit: 'ms',
      better: 'lower',
      value: (r) => r.send?.cpu?.perEventMs.total,
    },
    { label: '  of which the server process', unit: 'ms', better: 'lower', value: (r) => r.send?.cpu?.perEventMs.server },
    { label: '  of which its PostgreSQL backends', unit: 'ms', better: 'lower', value: (r) => r.send?.cpu?.perEventMs.database },
    {
      label: `send p50 while ${lp.clients} clients long-poll (${lp.senders} senders)`,
      unit: 'ms',
      better: 'lower',
      value: (r) => r.longpoll?.sendMs.p50,
    },
    {
      label: `send p99 while ${lp.clients} clients long-poll`,
      unit: 'ms',
      better: 'lower',
      value: (r) => r.longpoll?.sendMs.p99,
    },
    { label: `fan-out delay p50 (${k} long-polls)`, unit: 'ms', better: 'lower', value: (r) => r.fanout?.delayMs.p50 },
    {
      label: `fan-out delay p99 (${k} long-polls)`,
      unit: 'ms',
      better: 'lower',
      value: (r) => r.fanout?.delayMs.p99,
      target: { text: '< 50 ms at 1,000', met: (v) => v < 50 },
    },
    {
      label: 'fan-out delivered exactly once',
      unit: '',
      better: 'none',
      value: (r) =>
        r.fanout
          ? `${r.fanout.delivered - r.fanout.duplicated}/${r.fanout.expected}${r.fanout.lost || r.fanout.duplicated ? ' FAIL' : ''}`
          : undefined,
    },
    {
      label: `initial sync (${scale.initialSync.rooms} rooms)`,
      unit: 'ms',
      better: 'lower',
      value: (r) => r.initialSync?.initialMs,
      target: { text: '≥ 10× faster (500 rooms)', met: (_, f) => f !== undefined && f >= 10 },
    },
    {
      label: 'initial sync size',
      unit: 'KB',
      better: 'none',
      value: (r) => (r.initialSync ? r.initialSync.initialBytes / 1024 : undefined),
    },
    {
      label: 'incremental sync, nothing new',
      unit: 'ms',
      better: 'lower',
      value: (r) => r.initialSync?.incrementalEmptyMs,
      // Measured by the client, so HTTP included: under 5 ms here is under 5 ms of server time.
      target: { text: '< 5 ms server time', met: (v) => v < 5 },
    },
    { label: 'incremental sync, one new event', unit: 'ms', better: 'lower', value: (r) => r.initialSync?.incrementalOneEventMs },
    ...scale.join.sizes.map((size): Row => ({
      label: `join a room of ${size.toLocaleString('en')} members`,
      unit: 'ms',
      better: 'lower',
      value: (r) => r.join?.find((j) => j.members === size)?.joinMs,
    })),
    ...keysClaimRows(scale),
    ...mediaRows(scale),
    ...searchRows(scale),
    {
      label: 'RSS idle',
      unit: 'MB',
      better: 'lower',
      value: (r) => r.idleRssMB,
      target: {
        text: '< 150 MB on PostgreSQL, < 250 MB embedded',
        met: (v, _, r) => v < (r.database.startsWith('PostgreSQL') ? 150 : 250),
      },
    },
    { label: 'RSS peak during send', unit: 'MB', better: 'lower', value: (r) => r.send?.peakRssMB },
    {
      label: 'database per 100k messages (extrapolated)',
      unit: 'MB',
      better: 'lower',
      value: (r) => (r.send ? r.send.bytesPer100k / 1024 / 1024 : undefined),
    },
    { label: 'startup (to first /versions)', unit: 's', better: 'none', value: (r) => r.startupSeconds },
    {
      label: 'connection resets (retried / failed)',
      unit: '',
      better: 'none',
      value: (r) => `${r.resets.retried} / ${r.resets.failed}`,
    },
  ];
  return out;
}

function keysClaimRows(scale: Scale): Row[] {
  const kc = scale.keysClaim;
  return [
    {
      label: `keys/claim throughput (${kc.devices} devices × ${kc.keysPerDevice} keys, ${kc.claimers} claimers)`,
      unit: 'claims/s',
      better: 'higher',
      value: (r) => r.keysClaim?.claimsPerSec,
    },
    { label: 'keys/claim latency p50', unit: 'ms', better: 'lower', value: (r) => r.keysClaim?.latencyMs.p50 },
    { label: `keys/claim latency p99 (${kc.claimers} concurrent)`, unit: 'ms', better: 'lower', value: (r) => r.keysClaim?.latencyMs.p99 },
    {
      label: 'one-time keys handed out once, then the fallback',
      unit: '',
      better: 'none',
      value: (r) => {
        const t = r.keysClaim?.tally;
        if (!t) return undefined;
        const fallback = t.fallbacks ? `${t.fallbacks} fallback` : t.missing ? 'no fallback' : '';
        const early = t.fallbackEarly ? ` with ${t.unused} unused` : '';
        return `${t.distinct}/${t.handedOut}${fallback ? `, ${fallback}${early}` : ''}${claimProblems(t).length ? ' FAIL' : ''}`;
      },
    },
  ];
}

function mediaRows(scale: Scale): Row[] {
  const m = scale.media;
  return [
    {
      label: `media upload (~${m.imageKiB} KiB JPEG, ${m.uploaders} concurrent)`,
      unit: '/s',
      better: 'higher',
      value: (r) => r.media?.upload.perSec,
    },
    { label: 'media upload latency p50', unit: 'ms', better: 'lower', value: (r) => r.media?.upload.latencyMs.p50 },
    {
      label: `thumbnail 96×96, first request (${m.thumbnailConcurrency} concurrent; Synapse made it at upload)`,
      unit: '/s',
      better: 'higher',
      value: (r) => r.media?.cold.perSec,
    },
    { label: 'thumbnail, first request p50', unit: 'ms', better: 'lower', value: (r) => r.media?.cold.latencyMs.p50 },
    { label: 'thumbnail, cached', unit: '/s', better: 'higher', value: (r) => r.media?.warm.perSec },
    { label: 'thumbnail, cached p50', unit: 'ms', better: 'lower', value: (r) => r.media?.warm.latencyMs.p50 },
  ];
}

function searchRows(scale: Scale): Row[] {
  const sr = scale.search;
  const queries = [
    ['rare recent', `"${RARE_WORD}" (rare), recent`],
    ['common recent', `"${COMMON_WORD}" (common), recent`],
    ['common rank', `"${COMMON_WORD}", rank`],
    ['common recent page 2', `"${COMMON_WORD}", recent, page 2`],
  ] as const;
  const at = (where: 'atCompare' | 'atEnd', key: string) => (r: TargetResult) =>
    !r.search ? undefined : !r.search.served ? 'not served' : r.search[where]?.queries[key]?.medianMs;
  return [
    {
      label: `search: messages at the end of seeding (≤ ${sr.messages.toLocaleString('en')} in ${sr.seedSeconds} s)`,
      unit: '',
      better: 'none',
      value: (r) => (!r.search ? undefined : !r.search.served ? 'not served' : r.search.seeded),
    },
    ...queries.map(([key, text]): Row => ({
      label: `search ${text} at ${sr.compareAt.toLocaleString('en')} messages`,
      unit: 'ms',
      better: 'lower',
      value: at('atCompare', key),
    })),
    {
      label: 'search finds every message, after the last send (end of seeding)',
      unit: 'ms',
      better: 'lower',
      value: (r) => (!r.search ? undefined : !r.search.served ? 'not served' : r.search.atEnd?.settleMs),
    },
    ...(sr.messages > sr.compareAt
      ? queries.map(([key, text]): Row => ({
          label: `search ${text} at the end of seeding`,
          unit: 'ms',
          better: 'lower',
          value: at('atEnd', key),
        }))
      : []),
  ];
}

function factor(row: Row, ours: number | string | undefined, theirs: number | string | undefined): number | undefined {
  if (row.better === 'none' || typeof ours !== 'number' || typeof theirs !== 'number') return undefined;
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || ours <= 0 || theirs <= 0) return undefined;
  return row.better === 'higher' ? ours / theirs : theirs / ours;
}

/** The peer that did best on this row (highest or lowest value), if any peer has a value. */
export function bestPeer(row: Pick<Row, 'better' | 'value'>, peers: TargetResult[]): TargetResult | undefined {
  if (row.better === 'none') return undefined;
  let best: TargetResult | undefined;
  let bestValue = Number.NaN;
  for (const p of peers) {
    const v = row.value(p);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) continue;
    if (!best || (row.better === 'higher' ? v > bestValue : v < bestValue)) {
      best = p;
      bestValue = v;
    }
  }
  return best;
}

/** A markdown table (pasteable into RESULTS.md). */
export function renderTable(scale: Scale, results: TargetResult[], ctx: RunContext = {}): string {
  const peers = results.filter((r) => isPeer(r.name));
  const ours = results.filter((r) => !isPeer(r.name));
  const header = [
    'figure',
    ...ours.flatMap((r) => [r.label, '× best peer']),
    ...peers.map((p) => p.label),
    ...(peers.length ? ['best peer'] : []),
    'target (met?)',
  ];
  const lines: string[][] = [header];
  for (const row of rows(scale, ctx)) {
    const best = bestPeer(row, peers);
    const theirs = best ? row.value(best) : undefined;
    const cells = [row.label];
    const marks: string[] = [];
    for (const r of ours) {
      const v = row.value(r);
      const f = factor(row, v, theirs);
      cells.push(fmt(v, row.unit), row.better === 'none' ? '' : f === undefined ? 'n/a' : `${f.toFixed(2)}×`);
      if (row.target) marks.push(typeof v === 'number' && Number.isFinite(v) ? (row.target.met(v, f, r) ? 'yes' : 'no') : 'n/a');
    }
    for (const p of peers) cells.push(fmt(row.value(p), row.unit));
    if (peers.length) cells.push(best ? best.label.split('/')[0]! : '');
    cells.push(row.target ? `${row.target.text}${marks.length ? ` (${marks.join('/')})` : ''}` : '');
    lines.push(cells);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => [...(l[i] ?? '')].length)));
  const render = (l: string[]) => `| ${l.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [render(lines[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.slice(1).map(render)].join('\n');
}

export function machine(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
