import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';
import { monoMs, ok, request, sleep } from './http.ts';
import { measureCommitCeiling } from './pgbench.ts';
import { summarize } from './stats.ts';
import { createDatabase, ensurePostgres } from './targets/postgres.ts';

/**
 * What this machine allows before any Matrix work: the send and fan-out scenarios' shapes
 * against a server on our HTTP stack (Hono on @hono/node-server, postgres.js) that does the
 * least each scenario could do. A send inserts one event-sized row and answers; a long-poll
 * parks until the next message and answers a small JSON body. Clients are the bench's:
 * keep-alive node:http in two forked processes, on the same two cores as the server and
 * PostgreSQL. No homeserver can beat these figures on this machine; the targets of the send
 * and fan-out scenarios are read against them.
 *
 *   npx tsx test/bench/floors.ts [--senders 50] [--send-seconds 8] [--clients 1000] [--messages 20] [--interval-ms 1000] [--raw]
 */

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

type ToWorker =
  | { op: 'send'; url: string; lanes: number; durationMs: number }
  | { op: 'poll'; url: string; clients: number; offset: number }
  | { op: 'stop' };

/** A load-generator process: its answers go back over IPC. */
async function worker() {
  let polling = true;
  const deliveries: Array<[client: number, seq: number, at: number]> = [];
  const pollers: Promise<void>[] = [];
  process.on('message', async (m: ToWorker) => {
    if (m.op === 'send') {
      const latencies: number[] = [];
      const end = monoMs() + m.durationMs;
      await Promise.all(
        Array.from({ length: m.lanes }, async (_, lane) => {
          for (let n = 0; monoMs() < end; n++) {
            const r = await ok(m.url, 'POST', `/send/${lane}/${n}`, { body: { msgtype: 'm.text', body: `floor ${lane} ${n}` } });
            latencies.push(r.ms);
          }
        }),
      );
      process.send!({ op: 'sent', latencies });
    } else if (m.op === 'poll') {
      for (let i = 0; i < m.clients; i++) {
        const client = m.offset + i;
        pollers.push(
          (async () => {
            let since = 0;
            while (polling) {
              const r = await request<{ next: number; seqs: number[] }>(m.url, 'GET', `/poll?since=${since}`, { timeoutMs: 60_000 }).catch(
                () => undefined,
              );
              const at = monoMs();
              if (r?.status !== 200) continue;
              for (const seq of r.body.seqs) deliveries.push([client, seq, at]);
              since = r.body.next;
            }
          })(),
        );
      }
      process.send!({ op: 'polling' });
    } else if (m.op === 'stop') {
      polling = false;
      process.send!({ op: 'deliveries', deliveries });
      setTimeout(() => process.exit(0), 100);
    }
  });
}

async function main() {
  const senders = arg('senders', 50);
  const sendSeconds = arg('send-seconds', 8);
  const clients = arg('clients', 1000);
  const messages = arg('messages', 20);
  const intervalMs = arg('interval-ms', 1000);
  if (!(await ensurePostgres(console.log))) throw new Error('no PostgreSQL');

  const db = await createDatabase('floors');
  const sql = postgres(db.url, { max: 10, onnotice: () => {} });
  await sql`create table events (id bigserial primary key, room text not null, body text not null)`;

  // The fan-out's stream: one position per message; a poll behind it answers at once, else parks.
  let pos = 0;
  let parked: Array<() => void> = [];
  const body = (since: number) => ({
    next: pos,
    seqs: Array.from({ length: pos - since }, (_, i) => since + i + 1),
    // About what a filtered incremental /sync with one message carries.
    rooms: { join: { '!floor:localhost': { timeline: { events: [{ type: 'm.room.message', content: { body: 'x'.repeat(400) } }] } } } },
    padding: 'x'.repeat(600),
  });

  // What each request does, whichever HTTP front serves it.
  // A send parses its body as any server must, then stores it.
  const send = async (lane: string, text: string) => {
    const content = JSON.stringify(JSON.parse(text));
    const [row] = await sql`insert into events (room, body) values (${lane}, ${content.padEnd(600)}) returning id`;
    return { event_id: `$${row!.id}` };
  };
  const trigger = () => {
    pos++;
    const waking = parked;
    parked = [];
    for (const wake of waking) wake();
    return { pos };
  };
  const poll = async (since: number) => {
    if (since >= pos) await new Promise<void>((r) => parked.push(r));
    return body(since);
  };

  const app = new Hono();
  app.post('/send/:lane/:n', async (c) => c.json(await send(c.req.param('lane'), await c.req.text())));
  app.post('/trigger', (c) => c.json(trigger()));
  app.get('/poll', async (c) => c.json(await poll(Number(c.req.query('since')))));
  // --raw: node:http without Hono, to see what the framework adds.
  const server = process.argv.includes('--raw')
    ? createServer(async (req, res) => {
        const u = new URL(req.url!, 'http://x');
        let reply: unknown;
        if (req.method === 'POST' && u.pathname.startsWith('/send/')) {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          reply = await send(u.pathname.split('/')[2]!, Buffer.concat(chunks).toString());
        } else if (u.pathname === '/trigger') reply = trigger();
        else reply = await poll(Number(u.searchParams.get('since')));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      }).listen(0, '127.0.0.1')
    : (serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server);
  server.keepAliveTimeout = 65_000;
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  // Two load generators; the first takes the odd one out.
  const share = (n: number, i: number) => (i === 0 ? Math.ceil(n / 2) : Math.floor(n / 2));
  const workers = [0, 1].map(() => fork(fileURLToPath(import.meta.url), ['--worker'], { execArgv: ['--import', 'tsx'] }));
  const next = <T>(w: (typeof workers)[number], op: string) =>
    new Promise<T>((r) => {
      const on = (m: { op: string }) => m.op === op && (w.off('message', on), r(m as T));
      w.on('message', on);
    });

  const ceiling = await measureCommitCeiling({ clients: senders, seconds: 5 });
  const sent = await Promise.all(
    workers.map((w, i) => {
      const done = next<{ latencies: number[] }>(w, 'sent');
      w.send({ op: 'send', url, lanes: share(senders, i), durationMs: sendSeconds * 1000 });
      return done;
    }),
  );
  const latencies = sent.flatMap((s) => s.latencies);
  const sendRate = latencies.length / sendSeconds;
  const sendStats = summarize(latencies);

  await Promise.all(
    workers.map(
      (w, i) => (w.send({ op: 'poll', url, clients: share(clients, i), offset: i === 0 ? 0 : share(clients, 0) }), next(w, 'polling')),
    ),
  );
  while (parked.length < clients) await sleep(50);
  const sent200 = new Map<number, number>();
  for (let seq = 1; seq <= messages; seq++) {
    const t = monoMs();
    await ok(url, 'POST', '/trigger');
    sent200.set(seq, monoMs());
    await sleep(Math.max(0, intervalMs - (monoMs() - t)));
  }
  await sleep(2_000);
  const got = await Promise.all(
    workers.map((w) => (w.send({ op: 'stop' }), next<{ deliveries: Array<[number, number, number]> }>(w, 'deliveries'))),
  );
  const deliveries = got.flatMap((g) => g.deliveries);
  const delays = deliveries.map(([, seq, at]) => Math.max(0, at - sent200.get(seq)!));
  const fan = summarize(delays);

  const pct = ceiling.ok ? ` = ${((100 * sendRate) / ceiling.tps).toFixed(1)} % of pgbench's ${ceiling.tps.toFixed(0)} commits/s` : '';
  console.log(
    `send floor (${senders} senders, ${sendSeconds} s): ${sendRate.toFixed(0)} req/s${pct}; p50 ${sendStats.p50.toFixed(1)} ms, p99 ${sendStats.p99.toFixed(1)} ms`,
  );
  console.log(
    `fan-out floor (${clients} long-polls, ${messages} messages ${intervalMs} ms apart): ${deliveries.length}/${clients * messages} delivered; ` +
      `p50 ${fan.p50.toFixed(1)} ms, p99 ${fan.p99.toFixed(1)} ms, max ${fan.max.toFixed(1)} ms`,
  );
  server.close();
  server.closeAllConnections();
  await sql.end({ timeout: 2 });
  await db.drop();
}

if (process.argv.includes('--worker')) void worker();
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
