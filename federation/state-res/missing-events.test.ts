import { describe, expect, it } from 'vitest';
import { stateKey } from '../events/pdu.ts';
import { roomVersion } from '../room-versions.ts';
import { resolveState } from './state-res-v2.ts';
import { MissingEventsError } from './missing-events.ts';

const allow = () => ({ allowed: true as const });

describe('state resolution with an event it cannot fetch', () => {
  for (const v of ['2', '11', '12']) {
    it(`v${v}: fails naming the missing event instead of leaving it out`, () => {
      const sets = [new Map([[stateKey('m.room.topic', ''), '$have']]), new Map([[stateKey('m.room.topic', ''), '$gone']])];
      const have = {
        event_id: '$have',
        room_id: '!r:x',
        sender: '@a:x',
        type: 'm.room.topic',
        state_key: '',
        content: { topic: 't' },
        origin_server_ts: 1,
        depth: 3,
        prev_events: [],
        auth_events: [],
        hashes: { sha256: '' },
        signatures: {},
      };
      const fetch = (id: string) => (id === '$have' ? have : undefined);
      let caught: unknown;
      try {
        resolveState(sets, fetch, roomVersion(v)!, allow);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(MissingEventsError);
      expect((caught as MissingEventsError).eventIds).toEqual(['$gone']);
    });
  }
});
