import { describe, expect, it } from 'vitest';
import { strippedStateEvent } from './stripped-state.ts';

describe('strippedStateEvent', () => {
  const base = { sender: '@a:x', origin_server_ts: 1234 };
  it.each([
    [
      'the create event keeps origin_server_ts',
      { ...base, type: 'm.room.create', state_key: '', content: { room_version: '11' } },
      { type: 'm.room.create', state_key: '', sender: '@a:x', content: { room_version: '11' }, origin_server_ts: 1234 },
    ],
    [
      'other events keep only type, state_key, sender and content',
      { ...base, type: 'm.room.name', state_key: '', content: { name: 'n' } },
      { type: 'm.room.name', state_key: '', sender: '@a:x', content: { name: 'n' } },
    ],
    [
      'a missing state_key becomes the empty string',
      { ...base, type: 'm.room.topic', content: { topic: 't' } },
      { type: 'm.room.topic', state_key: '', sender: '@a:x', content: { topic: 't' } },
    ],
  ])('%s', (_name, event, expected) => {
    expect(strippedStateEvent(event)).toEqual(expected);
  });
});
