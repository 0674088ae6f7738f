import { describe, expect, it } from 'vitest';
import { stateKey, type Pdu, type StateMap } from '../events/pdu.ts';
import { authStateFor, iterativeAuthChecks } from './iterative-auth.ts';
import type { AuthCheck } from './types.ts';
import { ALICE, BOB, fetcherOf, pdu, version } from './test-fixtures.ts';

const create = pdu({ id: 'CREATE', type: 'm.room.create', sender: ALICE, state_key: '' });
const joinA1 = pdu({
  id: 'JA1',
  type: 'm.room.member',
  sender: ALICE,
  state_key: ALICE,
  content: { membership: 'join' },
});
const joinA2 = pdu({
  id: 'JA2',
  type: 'm.room.member',
  sender: ALICE,
  state_key: ALICE,
  content: { membership: 'join' },
});

/** Allows an event iff the auth state shows its sender joined; records what it saw. */
function recordingAuth(seen: Map<string, string | undefined>): AuthCheck {
  return (event, authState) => {
    const m = authState('m.room.member', event.sender);
    seen.set(event.event_id, m?.event_id);
    return m?.content['membership'] === 'join' ? { allowed: true } : { allowed: false, reason: 'not joined' };
  };
}

describe('authStateFor', () => {
  const topic = pdu({ id: 'T', type: 'm.room.topic', sender: ALICE, state_key: '', auth_events: ['$CREATE', '$JA1'] });
  const fetch = fetcherOf([create, joinA1, joinA2, topic]);
  const ctx = { fetchEvent: fetch, version: version('11'), checkAuth: (() => ({ allowed: true })) as AuthCheck };

  it('prefers the running state over the event’s own auth events', () => {
    const state: StateMap = new Map([[stateKey('m.room.member', ALICE), '$JA2']]);
    expect(authStateFor(topic, state, ctx)('m.room.member', ALICE)?.event_id).toBe('$JA2');
  });

  it('falls back to the event’s auth events for keys missing from the state', () => {
    expect(authStateFor(topic, new Map(), ctx)('m.room.member', ALICE)?.event_id).toBe('$JA1');
    expect(authStateFor(topic, new Map(), ctx)('m.room.create', '')?.event_id).toBe('$CREATE');
  });

  it('does not fall back to a rejected auth event', () => {
    const lookup = authStateFor(topic, new Map(), { ...ctx, isRejected: (id) => id === '$JA1' });
    expect(lookup('m.room.member', ALICE)).toBeUndefined();
  });

  it('returns undefined when neither has the key', () => {
    expect(authStateFor(topic, new Map(), ctx)('m.room.join_rules', '')).toBeUndefined();
  });

  it('v12: answers m.room.create from the room id (it is never an auth event)', () => {
    const c12 = { ...create };
    delete c12.room_id;
    const t12 = pdu({
      id: 'T',
      type: 'm.room.topic',
      sender: ALICE,
      state_key: '',
      room_id: '!CREATE',
      auth_events: ['$JA1'],
    });
    const lookup = authStateFor(t12, new Map(), {
      ...ctx,
      fetchEvent: fetcherOf([c12, joinA1, t12]),
      version: version('12'),
    });
    expect(lookup('m.room.create', '')?.event_id).toBe('$CREATE');
  });

  it('v11: does not derive the create event from the room id', () => {
    const t = pdu({ id: 'T', type: 'm.room.topic', sender: ALICE, state_key: '', room_id: '!CREATE', auth_events: [] });
    expect(authStateFor(t, new Map(), { ...ctx, fetchEvent: fetcherOf([create, t]) })('m.room.create', '')).toBeUndefined();
  });
});

describe('iterativeAuthChecks', () => {
  const leaveA = pdu({
    id: 'LA',
    type: 'm.room.member',
    sender: ALICE,
    state_key: ALICE,
    content: { membership: 'leave' },
    auth_events: ['$JA1'],
  });
  const t1 = pdu({ id: 'T1', type: 'm.room.topic', sender: ALICE, state_key: '', auth_events: ['$JA1'] });
  const t2 = pdu({ id: 'T2', type: 'm.room.topic', sender: ALICE, state_key: '', auth_events: ['$JA1'] });
  const msg = pdu({ id: 'M', type: 'm.room.message', sender: ALICE, auth_events: ['$JA1'] });
  const bobTopic = pdu({ id: 'TB', type: 'm.room.topic', sender: BOB, state_key: '', auth_events: [] });
  const fetch = fetcherOf([create, joinA1, leaveA, t1, t2, msg, bobTopic]);
  const ctx = (seen: Map<string, string | undefined>) => ({
    fetchEvent: fetch,
    version: version('11'),
    checkAuth: recordingAuth(seen),
  });

  it('applies allowed events in order, later ones replacing earlier ones', () => {
    const seen = new Map<string, string | undefined>();
    const out = iterativeAuthChecks(new Map(), ['$T1', '$T2'], ctx(seen));
    expect(out.get(stateKey('m.room.topic', ''))).toBe('$T2');
  });

  it('ignores disallowed events and events after the state changes against them', () => {
    const seen = new Map<string, string | undefined>();
    // LA (alice leaves) is allowed (she was joined via fallback JA1); then T1
    // is checked against the running state, where alice has left.
    const out = iterativeAuthChecks(new Map(), ['$JA1', '$LA', '$T1'], ctx(seen));
    expect(seen.get('$T1')).toBe('$LA');
    expect(out.has(stateKey('m.room.topic', ''))).toBe(false);
    expect(out.get(stateKey('m.room.member', ALICE))).toBe('$LA');
  });

  it('skips non-state events, unknown ids and events with no auth', () => {
    const seen = new Map<string, string | undefined>();
    const out = iterativeAuthChecks(new Map(), ['$M', '$nope', '$TB'], ctx(seen));
    expect(out.size).toBe(0);
    expect(seen.has('$M')).toBe(false);
  });

  it('does not modify the initial state', () => {
    const initial: StateMap = new Map([[stateKey('m.room.member', ALICE), '$JA1']]);
    const out = iterativeAuthChecks(initial, ['$T1'], ctx(new Map()));
    expect(initial.size).toBe(1);
    expect(out.size).toBe(2);
  });

  it('re-authorises previously rejected events (only the auth-event fallback skips them)', () => {
    const rejectedTopic: Pdu = t1;
    const out = iterativeAuthChecks(new Map(), [rejectedTopic.event_id], {
      ...ctx(new Map()),
      isRejected: (id) => id === rejectedTopic.event_id,
    });
    expect(out.get(stateKey('m.room.topic', ''))).toBe('$T1');
  });
});
