import { describe, expect, it } from 'vitest';
import type { Notifier } from '../../server/notifier/notifier.ts';
import type { Typing } from '../../server/notifier/typing.ts';

export interface TypingSide {
  typing: Typing;
  notifier: Notifier;
}

/**
 * What every typing engine must do. `pair()` returns the side a user types on and
 * the side a /sync reads: the same process in-process, two processes over Redis.
 */
export function typingContract(
  name: string,
  pair: () => Promise<{ writer: TypingSide; reader: TypingSide; close(): Promise<void> }>,
): void {
  describe(`typing contract: ${name}`, () => {
    const roomId = () => `!room-${Math.random().toString(36).slice(2)}:x`;
    const member = (room: string) => ({ userId: '@reader:x', rooms: new Set([room]) });

    it('a user who starts typing is listed for the room, and the room’s syncs wake', async () => {
      const { writer, reader, close } = await pair();
      const room = roomId();
      const since = reader.notifier.current();
      const woke = reader.notifier.wait(member(room), since, 10_000);
      await writer.typing.set(room, '@alice:x', true, 30_000);
      await woke;
      await expect.poll(() => reader.typing.current(room)).toEqual(['@alice:x']);
      expect(reader.typing.changedSince(room, since.typing)).toEqual(['@alice:x']);
      expect(reader.notifier.current().typing).toBeGreaterThan(since.typing);
      await close();
    });

    it('refreshing a typing notice changes nothing a client sees', async () => {
      const { writer, reader, close } = await pair();
      const room = roomId();
      await writer.typing.set(room, '@alice:x', true, 30_000);
      await expect.poll(() => reader.typing.current(room)).toEqual(['@alice:x']);
      const after = writer.typing.serial();
      await writer.typing.set(room, '@alice:x', true, 30_000);
      expect(writer.typing.changedSince(room, after)).toBeUndefined();
      expect(writer.typing.serial()).toBe(after);
      await close();
    });

    it('stopping removes the user and wakes the room’s syncs', async () => {
      const { writer, reader, close } = await pair();
      const room = roomId();
      await writer.typing.set(room, '@alice:x', true, 30_000);
      await writer.typing.set(room, '@bob:x', true, 30_000);
      await expect.poll(() => reader.typing.current(room).sort()).toEqual(['@alice:x', '@bob:x']);
      const since = reader.notifier.current();
      const woke = reader.notifier.wait(member(room), since, 10_000);
      await writer.typing.set(room, '@alice:x', false, 0);
      await woke;
      await expect.poll(() => reader.typing.current(room)).toEqual(['@bob:x']);
      expect(reader.typing.changedSince(room, since.typing)).toEqual(['@bob:x']);
      await close();
    });

    it('a typing notice expires by itself, and the room’s syncs wake for it', async () => {
      const { writer, reader, close } = await pair();
      const room = roomId();
      await writer.typing.set(room, '@alice:x', true, 1000);
      await expect.poll(() => reader.typing.current(room)).toEqual(['@alice:x']);
      const since = reader.notifier.current();
      await reader.notifier.wait(member(room), since, 30_000);
      await expect.poll(() => reader.typing.current(room), { timeout: 10_000 }).toEqual([]);
      expect(reader.typing.changedSince(room, since.typing)).toEqual([]);
      await close();
    });
  });
}
