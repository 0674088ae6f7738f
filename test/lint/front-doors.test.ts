import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// The project's own lint config, run on code a change might add: a deep import across components fails.
const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
const importErrors = async (code: string, filePath: string) =>
  (await eslint.lintText(code, { filePath }))[0]!.messages.filter((m) => m.ruleId === 'no-restricted-imports');

describe('component front doors', () => {
  // The first lint builds the TypeScript program the type-aware rules need: slow once.
  beforeAll(() => importErrors('export {};', 'server/main.ts'), 180_000);

  it.each([
    ["import { createSessions } from '../../accounts/service/sessions.ts';", 'server/rooms/service/create-room.ts'],
    ["import type { Notifier } from '../notifier/notifier.ts';", 'server/push/index.ts'],
    ["import { roomEventsBetween } from '../../rooms/storage/events.ts';", 'server/sync/service/sync.ts'],
    ["import { createRooms } from './rooms/service/room-reads.ts';", 'server/main.ts'],
  ])('refuses %s in %s', async (code, file) => {
    expect(await importErrors(code, file)).toHaveLength(1);
  });

  it.each([
    ["import { parseUserId } from '../../accounts/index.ts';", 'server/rooms/service/create-room.ts'],
    ["import { getRoom } from '../storage/rooms.ts';", 'server/rooms/service/create-room.ts'],
    ["import { createRooms } from './rooms/index.ts';", 'server/main.ts'],
  ])('allows %s in %s', async (code, file) => {
    expect(await importErrors(code, file)).toHaveLength(0);
  });
});
