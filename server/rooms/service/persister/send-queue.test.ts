import { describe, expect, it } from 'vitest';
import { createSendQueue, type Settled } from './send-queue.ts';

/** A flush the test finishes by hand, recording each batch it was given. */
function manualFlush() {
  const batches: Array<{ roomId: string; items: number[]; finish(outcomes?: Array<Settled<string>>): void; fail(err: unknown): void }> = [];
  const flush = (roomId: string, items: number[]) =>
    new Promise<Array<Settled<string>>>((resolve, reject) => {
      batches.push({
        roomId,
        items,
        finish: (outcomes) => resolve(outcomes ?? items.map((i) => ({ value: `${roomId}:${i}` }))),
        fail: reject,
      });
    });
  return { batches, flush };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('send queue (group commit per room)', () => {
  it('writes a send to an idle room at once and alone', async () => {
    const { batches, flush } = manualFlush();
    const send = createSendQueue(flush, 4);
    const one = send('!a', 1);
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    batches[0]!.finish();
    await expect(one).resolves.toBe('!a:1');
  });

  it('sends that queue while a batch is written go together next, in order, at most maxBatch at a time', async () => {
    const { batches, flush } = manualFlush();
    const send = createSendQueue(flush, 4);
    const all = [1, 2, 3, 4, 5, 6, 7].map((i) => send('!a', i));
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[1]]);
    batches[0]!.finish();
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4, 5]]);
    const late = send('!a', 8);
    batches[1]!.finish();
    await tick();
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4, 5], [6, 7, 8]]);
    batches[2]!.finish();
    expect(await Promise.all([...all, late])).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `!a:${i}`));
  });

  it('does not make one room wait for another', async () => {
    const { batches, flush } = manualFlush();
    const send = createSendQueue(flush, 4);
    void send('!a', 1);
    const b = send('!b', 2);
    await tick();
    expect(batches.map((x) => [x.roomId, x.items])).toEqual([
      ['!a', [1]],
      ['!b', [2]],
    ]);
    batches[1]!.finish();
    await expect(b).resolves.toBe('!b:2');
  });

  it('gives each send its own outcome, and a failed flush fails only its batch', async () => {
    const { batches, flush } = manualFlush();
    const send = createSendQueue(flush, 4);
    const first = send('!a', 1);
    const [two, three, four] = [2, 3, 4].map((i) => send('!a', i));
    await tick();
    const boom = new Error('database gone');
    batches[0]!.fail(boom);
    await expect(first).rejects.toBe(boom);
    await tick();
    const refused = new Error('forbidden');
    batches[1]!.finish([{ value: 'two' }, { error: refused }, { value: 'four' }]);
    await expect(two).resolves.toBe('two');
    await expect(three).rejects.toBe(refused);
    await expect(four).resolves.toBe('four');
    // The room's queue is gone, and the next send starts a new one.
    const five = send('!a', 5);
    await tick();
    batches[2]!.finish();
    await expect(five).resolves.toBe('!a:5');
  });
});
