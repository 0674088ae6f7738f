import { createRoom, CS, joinAll, type BenchUser, type Server } from '../matrix.ts';
import type { Scale } from '../options.ts';
import { median, round } from '../stats.ts';
import type { TimedReply } from '../worker-protocol.ts';
import type { WorkerPool } from '../workers.ts';

/**
 * join: a public local room is filled to S members (setup, not timed), then
 * `joiners` more users join it one after another from a load worker, each timed.
 * Reported per size: the median join, and how long filling the room took.
 */

export interface JoinOutcome {
  members: number;
  joinMs: number;
  joinsMs: number[];
  fillSeconds: number;
}

export async function runJoin(d: {
  server: Server;
  pool: WorkerPool;
  users: BenchUser[];
  scale: Scale['join'];
  setupConcurrency: number;
  log: (s: string) => void;
}): Promise<JoinOutcome[]> {
  const out: JoinOutcome[] = [];
  for (const size of d.scale.sizes) {
    const need = size + d.scale.joiners;
    if (d.users.length < need) throw new Error(`join of a ${size}-member room needs ${need} users, got ${d.users.length}`);
    const [owner, ...rest] = d.users;
    const members = rest.slice(0, size - 1);
    const joiners = rest.slice(size - 1, size - 1 + d.scale.joiners);
    const filled = Date.now();
    const roomId = await createRoom(d.server, owner!, `join ${size}`);
    await joinAll(d.server, members, roomId, d.setupConcurrency);
    const fillSeconds = (Date.now() - filled) / 1000;
    d.log(`  join: room of ${size} members filled in ${fillSeconds.toFixed(1)} s`);
    const replies = await d.pool.first().call<TimedReply[]>({
      op: 'requests',
      url: d.server.url,
      requests: joiners.map((u) => ({ method: 'POST', path: `${CS}/join/${encodeURIComponent(roomId)}`, token: u.token, body: {} })),
    });
    const joinsMs = replies.map((r) => round(r.ms, 1));
    out.push({ members: size, joinMs: round(median(joinsMs), 1), joinsMs, fillSeconds: round(fillSeconds, 1) });
  }
  return out;
}
