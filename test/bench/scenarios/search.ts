import { HttpError, mapLimit, monoMs, request, sleep } from '../http.ts';
import { createRoom, CS, joinRoom, registerUser, type BenchUser, type Server } from '../matrix.ts';
import type { Scale } from '../options.ts';
import { median, round } from '../stats.ts';
import type { SendResult, TimedReply } from '../worker-protocol.ts';
import type { WorkerPool } from '../workers.ts';
import { COMMON_WORD, RARE_WORD, wordsOf } from './search-text.ts';

/**
 * search: a fresh user creates R rooms; S users join them and send word-list messages
 * (search-text.ts: Zipf frequencies) from the load workers, closed loop, until the
 * history holds `messages` or `seedSeconds` of sending have passed. At `compareAt`
 * messages (a size every server reaches in the time) and again at the end, the user's
 * searches are timed from a load worker, `repeats` times each (the median is reported):
 * POST /search, room_events, one word, filter limit 10, for a rare word and a common
 * one, order_by recent and rank, and for each the second page (its next_batch).
 *
 * Servers seed at very different rates (Synapse ~40 messages/s here), so the history each
 * reaches is reported with the figures: compare the `compareAt` rows across servers.
 *
 * The seeders count the messages holding each searched word, and the harness checks the
 * answers: every result holds the word, the first page has min(limit, holding) results,
 * the second page has no event of the first and the rest up to the limit. Before the
 * searches are timed the search must find every message (its `count`, where the server
 * gives one, must reach the messages holding the word: an index that lags behind is
 * waited for, up to 60 s, and the wait reported). What breaks these is in `problems`
 * (run-target.ts fails the run on CommComms', records a peer's as findings). A server that
 * answers /search with M_UNRECOGNIZED is reported as not serving it, and nothing is seeded.
 */

const LIMIT = 10;
const TERMS = { rare: RARE_WORD, common: COMMON_WORD } as const;
type Term = keyof typeof TERMS;
type Order = 'recent' | 'rank';

export interface QueryTiming {
  /** Median and first of the repeats, in ms. */
  medianMs: number;
  firstMs: number;
  /** Results on the page, and the server's `count` (its estimate of all matches), if any. */
  results: number;
  count: number | undefined;
}

export interface SearchCheckpoint {
  messages: number;
  /** Messages holding each searched word, as the seeders counted them. */
  holding: Record<Term, number>;
  /** From the last send until a search found every message it should. */
  settleMs: number;
  /** e.g. `rare recent`, `common rank page 2`. */
  queries: Record<string, QueryTiming>;
}

export type SearchOutcome =
  | { served: false; reason: string }
  | {
      served: true;
      senders: number;
      rooms: number;
      /** Messages sent, the sending time (checkpoints left out), and the rate. */
      seeded: number;
      seedSeconds: number;
      seedPerSec: number;
      /** Timed at `compareAt` messages, if the server got there in time. */
      atCompare: SearchCheckpoint | undefined;
      /** Timed at the end of seeding (the same as atCompare when seeding ended there). */
      atEnd: SearchCheckpoint | undefined;
      /** Requests that failed. */
      errors: string[];
      /** Answers that break the rules above. */
      problems: string[];
    };

interface SearchResultBody {
  search_categories?: {
    room_events?: {
      results?: Array<{ result?: { event_id?: string; content?: { body?: unknown } } }>;
      count?: number;
      next_batch?: string;
    };
  };
}

const searchBody = (term: string, order: Order) => ({
  search_categories: { room_events: { search_term: term, order_by: order, filter: { limit: LIMIT } } },
});

const searchPath = (nextBatch?: string) => `${CS}/search${nextBatch ? `?next_batch=${encodeURIComponent(nextBatch)}` : ''}`;

const roomEvents = (body: unknown) => (body as SearchResultBody).search_categories?.room_events ?? {};

/** Problems with one page of results for `term` (`expected`: how many it must hold at least). */
export function pageProblems(body: unknown, term: string, expected: number, notIn: ReadonlySet<string> = new Set()): string[] {
  const results = roomEvents(body).results ?? [];
  const out: string[] = [];
  if (results.length > LIMIT) out.push(`${results.length} results for a limit of ${LIMIT}`);
  if (results.length < Math.min(LIMIT, expected)) out.push(`${results.length} results where ${Math.min(LIMIT, expected)} were due`);
  for (const r of results) {
    const text = r.result?.content?.body;
    if (typeof text !== 'string' || !wordsOf(text).includes(term)) out.push(`a result without '${term}': ${JSON.stringify(text)}`);
    if (r.result?.event_id && notIn.has(r.result.event_id)) out.push(`event ${r.result.event_id} on both pages`);
  }
  return out.slice(0, 3);
}

export async function runSearch(d: {
  server: Server;
  pool: WorkerPool;
  users: BenchUser[];
  scale: Scale['search'];
  setupConcurrency: number;
  log: (s: string) => void;
}): Promise<SearchOutcome> {
  const { server, pool, scale } = d;
  if (d.users.length < scale.senders) throw new Error(`search needs ${scale.senders} users, got ${d.users.length}`);
  const searcher = await registerUser(server, 'search');
  const search = (term: string, order: Order) =>
    request(server.url, 'POST', searchPath(), { token: searcher.token, body: searchBody(term, order), timeoutMs: 120_000 });
  const rooms = await mapLimit(Array.from({ length: scale.rooms }), d.setupConcurrency, (_, i) =>
    createRoom(server, searcher, `search ${i}`),
  );
  // After the rooms: Dendrite answers 404 M_NOT_FOUND to a user in no room.
  const probe = await search(COMMON_WORD, 'recent');
  const errcode = (probe.body as { errcode?: unknown }).errcode;
  if (errcode === 'M_UNRECOGNIZED') return { served: false, reason: `${probe.status} M_UNRECOGNIZED` };
  if (probe.status !== 200) throw new HttpError('POST', searchPath(), probe.status, probe.body);

  const senders = d.users.slice(0, scale.senders);
  const seats = senders.map((u, i) => ({ token: u.token, roomId: rooms[i % rooms.length]! }));
  await mapLimit(senders, d.setupConcurrency, (u, i) => joinRoom(server, u, rooms[i % rooms.length]!));

  const errors: string[] = [];
  const problems: string[] = [];
  const holding: Record<Term, number> = { rare: 0, common: 0 };
  let seeded = 0;
  let seedMs = 0;
  let phase = 0;
  const seedTo = async (target: number) => {
    const budget = scale.seedSeconds * 1000 - seedMs;
    if (seeded >= target || budget <= 0) return;
    const t = monoMs();
    phase++;
    const results = await Promise.all(
      pool.splitCount(seats, target - seeded).map((s, i) =>
        s.worker.call<SendResult>({
          op: 'send',
          url: server.url,
          senders: s.items,
          durationMs: budget,
          maxRequests: s.count,
          text: { seed: phase * 64 + i, track: [RARE_WORD, COMMON_WORD] },
        }),
      ),
    );
    seedMs += monoMs() - t;
    for (const r of results) {
      seeded += r.latencies.length;
      holding.rare += r.tracked?.[RARE_WORD] ?? 0;
      holding.common += r.tracked?.[COMMON_WORD] ?? 0;
      errors.push(...r.errors);
    }
    d.log(`  search: ${seeded} messages seeded (${(seeded / (seedMs / 1000)).toFixed(0)}/s)`);
  };

  /** Waits until the search finds every message it should, then times the searches. */
  const checkpoint = async (): Promise<SearchCheckpoint | undefined> => {
    const lastSend = monoMs();
    let missing: string[] = [];
    for (const deadline = lastSend + 60_000; ; await sleep(250)) {
      missing = [];
      for (const term of Object.keys(TERMS) as Term[]) {
        const r = await search(TERMS[term], 'recent');
        if (r.status !== 200) throw new HttpError('POST', searchPath(), r.status, r.body);
        missing.push(...pageProblems(r.body, TERMS[term], holding[term]).map((p) => `'${TERMS[term]}': ${p}`));
        // The first page can be full long before an index has caught up; its count cannot.
        const { count } = roomEvents(r.body);
        if (count !== undefined && count < holding[term]) missing.push(`'${TERMS[term]}': count ${count} of ${holding[term]} messages`);
      }
      if (missing.length === 0 || monoMs() > deadline) break;
    }
    if (missing.length) {
      problems.push(`at ${seeded} messages, 60 s after the last send: ${missing.join('; ')}`);
      return undefined;
    }
    const settleMs = round(monoMs() - lastSend, 0);
    const worker = pool.first();
    const queries: Record<string, QueryTiming> = {};
    const timed = async (name: string, term: Term, order: Order, nextBatch?: string) => {
      const path = searchPath(nextBatch);
      const replies = await worker.call<TimedReply[]>({
        op: 'requests',
        url: server.url,
        requests: Array.from({ length: scale.repeats }, () => ({
          method: 'POST',
          path,
          token: searcher.token,
          body: searchBody(TERMS[term], order),
          keepBody: true,
        })),
      });
      const first = roomEvents(replies[0]!.body);
      queries[name] = {
        medianMs: round(median(replies.map((r) => r.ms)), 1),
        firstMs: round(replies[0]!.ms, 1),
        results: first.results?.length ?? 0,
        count: first.count,
      };
      return replies.map((r) => r.body);
    };
    for (const term of Object.keys(TERMS) as Term[]) {
      for (const order of ['recent', 'rank'] as const) {
        const page1 = await timed(`${term} ${order}`, term, order);
        for (const b of page1) problems.push(...pageProblems(b, TERMS[term], holding[term]).map((p) => `${term} ${order}: ${p}`));
        const { next_batch: next, results = [] } = roomEvents(page1[0]);
        if (!next) continue;
        const ids = new Set(results.map((r) => r.result?.event_id ?? ''));
        const page2 = await timed(`${term} ${order} page 2`, term, order, next);
        for (const b of page2)
          problems.push(...pageProblems(b, TERMS[term], holding[term] - results.length, ids).map((p) => `${term} ${order} page 2: ${p}`));
      }
    }
    return { messages: seeded, holding: { ...holding }, settleMs, queries };
  };

  let atCompare: SearchCheckpoint | undefined;
  await seedTo(scale.compareAt);
  if (seeded >= scale.compareAt) atCompare = await checkpoint();
  let atEnd = atCompare;
  if (scale.messages > seeded && seedMs < scale.seedSeconds * 1000) {
    await seedTo(scale.messages);
    atEnd = await checkpoint();
  } else if (!atCompare && seeded > 0) atEnd = await checkpoint();
  return {
    served: true,
    senders: senders.length,
    rooms: rooms.length,
    seeded,
    seedSeconds: round(seedMs / 1000, 1),
    seedPerSec: round(seeded / (seedMs / 1000), 1),
    atCompare,
    atEnd,
    errors: errors.slice(0, 50),
    problems: problems.slice(0, 50),
  };
}
