import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A tiny summariser for V8 .cpuprofile files (node --cpu-prof): where the busy time
 * went, by function (self time), by package or source file, and the inclusive time
 * of our own functions (server/, federation/). Idle time is left out of the shares.
 *
 *   npx tsx test/bench/profile.ts out/profiles/send/CPU.*.cpuprofile [--top 20]
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Line {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  busyMs: number;
  selfByFunction: Line[];
  selfByArea: Line[];
  inclusiveOurs: Line[];
}

const IDLE = new Set(['(idle)', '(program)']);

/**
 * Frames of the server's bundle (bin/commcomms.mjs runs one, in node_modules/.cache) are put
 * back on the TypeScript line they were built from, through the bundle's source map, so that
 * functions are named by their source file and our own are told apart from packages'.
 */
function sourceMapped(): (f: CallFrame) => CallFrame {
  const maps = new Map<string, { map: SourceMap; dir: string } | null>();
  return (f) => {
    // Packages' own files have no map beside them; only the bundle in node_modules/.cache does.
    if (!f.url.startsWith('file://') || (f.url.includes('/node_modules/') && !f.url.includes('/node_modules/.cache/'))) return f;
    let m = maps.get(f.url);
    if (m === undefined) {
      const mapFile = `${fileURLToPath(f.url)}.map`;
      m = existsSync(mapFile) ? { map: new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))), dir: dirname(mapFile) } : null;
      maps.set(f.url, m);
    }
    if (!m) return f;
    const entry = m.map.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string; originalLine?: number };
    if (!entry.originalSource) return f;
    const source = entry.originalSource.startsWith('file://')
      ? entry.originalSource
      : pathToFileURL(resolve(m.dir, entry.originalSource)).href;
    return { ...f, url: source, lineNumber: entry.originalLine ?? f.lineNumber };
  };
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  const root = path.search(/\/(server|federation|test|plugins|workflows)\//);
  return root >= 0 ? path.slice(root + 1) : path;
}

/** What a frame belongs to: a package, one of our files, node itself, or V8 (GC). */
function area(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (f.url.startsWith('node:')) return 'node internals';
  const s = shortUrl(f.url);
  if (f.url.includes('/node_modules/')) {
    const parts = s.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return s;
}

const frameName = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : ''}`.trim();

/**
 * `window` (ms on CLOCK_MONOTONIC, which is what V8 stamps samples with on Linux and what
 * process.hrtime reads) keeps only the samples taken during a scenario's measured phase.
 */
export function summarise(file: string, top = 15, window?: { start: number; end: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const original = sourceMapped();
  for (const n of p.nodes) n.callFrame = original(n.callFrame);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Self time per node from the samples and their time deltas (µs).
  const selfUs = new Map<number, number>();
  let t = p.startTime;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window.start * 1000 || t > window.end * 1000)) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0));
  }
  let busyUs = 0;
  const fn = new Map<string, number>();
  const ar = new Map<string, number>();
  for (const n of p.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (IDLE.has(n.callFrame.functionName)) continue;
    busyUs += us;
    const k = frameName(n.callFrame);
    fn.set(k, (fn.get(k) ?? 0) + us);
    const a = area(n.callFrame);
    ar.set(a, (ar.get(a) ?? 0) + us);
  }
  // Inclusive time of our own functions (each function counted once per stack).
  const incl = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const n = byId.get(id)!;
    let total = selfUs.get(id) ?? 0;
    const k = frameName(n.callFrame);
    const ours = /^(server|federation)\//.test(shortUrl(n.callFrame.url)) && !onStack.has(k);
    if (ours) onStack.add(k);
    for (const c of n.children ?? []) total += walk(c, onStack);
    if (ours) {
      onStack.delete(k);
      incl.set(k, (incl.get(k) ?? 0) + total);
    }
    return total;
  };
  walk(p.nodes[0]!.id, new Set());
  const lines = (m: Map<string, number>, count: number): Line[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: busyUs ? Math.round((us / busyUs) * 1000) / 10 : 0 }));
  return {
    file,
    wallMs: Number.isFinite(first) ? Math.round((last - first) / 1000) : 0,
    busyMs: Math.round(busyUs / 1000),
    selfByFunction: lines(fn, top),
    selfByArea: lines(ar, Math.min(top, 12)),
    inclusiveOurs: lines(incl, top),
  };
}

export function renderSummary(s: ProfileSummary, title: string): string {
  const block = (head: string, ls: Line[]) =>
    [`  ${head}`, ...ls.map((l) => `    ${String(l.share).padStart(5)}%  ${String(l.ms).padStart(7)} ms  ${l.name}`)].join('\n');
  return [
    `${title}: ${s.busyMs} ms busy of ${s.wallMs} ms profiled (${s.file})`,
    block('self time by function (share of busy time):', s.selfByFunction),
    block('self time by package / source file:', s.selfByArea),
    block('inclusive time of server/ and federation/ functions:', s.inclusiveOurs),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
  const files = args.filter((_, i) => topAt < 0 || (i !== topAt && i !== topAt + 1));
  if (files.length === 0) {
    console.error('usage: npx tsx test/bench/profile.ts FILE.cpuprofile [...] [--top N]');
    process.exit(2);
  }
  for (const f of files) console.log(renderSummary(summarise(f, top), 'profile'));
}
