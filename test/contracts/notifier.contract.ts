import { describe, expect, it } from 'vitest';
import type { Notifier } from '../../server/notifier/index.ts';

/**
 * What every notifier transport must do. `pair()` returns the notifier a change
 * is committed on and the one a /sync waits on: the same object in-process, two
 * bridged processes over Redis.
 */
export function notifierContract(name: string, pair: () => Promise<{ writer: Notifier; reader: Notifier; close(): Promise<void> }>): void {
  describe(`notifier contract: ${name}`, () => {
    const room = (id: string) => new Set([id]);

    it('wakes a waiter for a change in one of its rooms', async () => {
      const { writer, reader, close } = await pair();
      const since = reader.current();
      const woke = reader.wait({ userId: '@a:x', rooms: room('!r:x') }, since, 10_000);
      writer.notify({ pos: since.pos + 1, roomId: '!r:x' });
      await woke;
      await expect.poll(() => reader.current().pos).toBe(since.pos + 1);
      await close();
    });

    it('wakes a waiter for a change naming its user', async () => {
      const { writer, reader, close } = await pair();
      const since = reader.current();
      const woke = reader.wait({ userId: '@invitee:x', rooms: new Set() }, since, 10_000);
      writer.notify({ pos: since.pos + 1, roomId: '!elsewhere:x', userIds: ['@invitee:x'] });
      await woke;
      await close();
    });

    it('does not wake for changes elsewhere, and returns at its timeout', async () => {
      const { writer, reader, close } = await pair();
      const since = reader.current();
      let woke = false;
      const waiting = reader.wait({ userId: '@a:x', rooms: room('!r:x') }, since, 300).then(() => (woke = true));
      writer.notify({ pos: since.pos + 1, roomId: '!other:x' });
      await new Promise((r) => setTimeout(r, 50));
      expect(woke).toBe(false);
      await waiting;
      expect(woke).toBe(true);
      await close();
    });

    it('wakes on the typing serial alone', async () => {
      const { writer, reader, close } = await pair();
      const since = reader.current();
      const woke = reader.wait({ userId: '@a:x', rooms: room('!r:x') }, since, 10_000);
      writer.notify({ typing: since.typing + 1, roomId: '!r:x' });
      await woke;
      await close();
    });

    it('an aborted wait returns and leaves no waiter behind', async () => {
      const { reader, close } = await pair();
      const ctl = new AbortController();
      const waiting = reader.wait({ userId: '@a:x', rooms: room('!r:x') }, reader.current(), 10_000, ctl.signal);
      expect(reader.waiting()).toBe(1);
      ctl.abort();
      await waiting;
      expect(reader.waiting()).toBe(0);
      await close();
    });
  });
}
