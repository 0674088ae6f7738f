/**
 * Test-only helpers: builds plain Pdu objects and small room states for the
 * table-driven auth tests. Hashes and signatures are dummies — the auth rules
 * never verify them. Not part of the public API (not exported from index.ts).
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject, Pdu } from '../events/pdu.ts';
import { stateKey, type StateKey } from '../events/pdu.ts';
import { type RoomVersion, roomVersion } from '../room-versions.ts';
import { selectAuthEvents } from './auth-events.ts';
import { checkEventAuth } from './auth-rules.ts';
import { domainOf } from './identifiers.ts';
import type { AuthOptions, AuthResult, AuthStateLookup } from './types.ts';

export const ALICE = '@alice:a.example'; // the creator in every fixture room
export const BOB = '@bob:b.example';
export const CAROL = '@carol:a.example';
export const DAVE = '@dave:d.example';
export const MOD = '@mod:m.example';
export const ADMIN = '@admin:m.example';

function mustVersion(id: string): RoomVersion {
  const v = roomVersion(id);
  if (!v) throw new Error(`unknown room version ${id}`);
  return v;
}
export const V10 = mustVersion('10');
export const V11 = mustVersion('11');
export const V12 = mustVersion('12');
export const ALL_VERSIONS: readonly RoomVersion[] = [V10, V11, V12];
/** Every supported version, 1-12: rows that name older versions run against these. */
export const EVERY_VERSION: readonly RoomVersion[] = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'].map(mustVersion);

export interface StateInit {
  type: string;
  state_key: string;
  sender?: string;
  content: JsonObject;
}

export interface RoomSetup {
  /** Merged over the default create content for the version. */
  createContent?: JsonObject;
  /** user id -> membership (or full member content); null for no member event. ALICE is joined unless listed. */
  members?: Record<string, string | JsonObject | null>;
  /** Content of the m.room.power_levels event; omit for a room without one. */
  powerLevels?: JsonObject;
  /** `join_rule` of the m.room.join_rules event; omit for a room without one. */
  joinRule?: string;
  /** Any other state. */
  extraState?: StateInit[];
}

export interface EventInit {
  type: string;
  sender: string;
  state_key?: string;
  content?: JsonObject;
  prev_events?: string[];
  auth_events?: string[];
  /** Overrides the room id; `null` removes it. */
  room_id?: string | null;
  redacts?: string;
  signatures?: Record<string, Record<string, string>>;
}

export interface TestRoom {
  version: RoomVersion;
  roomId: string;
  create: Pdu;
  state: ReadonlyMap<StateKey, Pdu>;
  /** Every event made for this room, by id. */
  byId: ReadonlyMap<string, Pdu>;
  lookup: AuthStateLookup;
  /** A new event in this room (not added to the state). auth_events default to the selection. */
  event(init: EventInit): Pdu;
}

/** A room with a create event and the state described by `setup`. */
export function makeRoom(version: RoomVersion, setup: RoomSetup = {}): TestRoom {
  let counter = 0;
  const byId = new Map<string, Pdu>();
  const state = new Map<StateKey, Pdu>();
  const lookup: AuthStateLookup = (type, key) => state.get(stateKey(type, key));

  const createId = `$create-v${version.id}`;
  const roomId = version.roomIdFromCreateEvent ? `!${createId.slice(1)}` : '!room:a.example';

  const build = (init: EventInit, id: string): Pdu => {
    const pdu: Pdu = {
      event_id: id,
      sender: init.sender,
      type: init.type,
      content: init.content ?? {},
      origin_server_ts: 1_700_000_000_000 + counter,
      depth: counter + 1,
      prev_events: init.prev_events ?? (init.type === 'm.room.create' ? [] : ['$latest']),
      auth_events: init.auth_events ?? selectAuthEvents(shapeOf(init), lookup, version).map((e) => e.event_id),
      hashes: { sha256: 'dummyhash' },
      signatures: init.signatures ?? { [domainOf(init.sender) ?? '']: { 'ed25519:1': 'dummysig' } },
    };
    const rid = init.room_id === undefined ? roomId : init.room_id;
    if (rid !== null) pdu.room_id = rid;
    if (init.state_key !== undefined) pdu.state_key = init.state_key;
    if (init.redacts !== undefined) pdu.redacts = init.redacts;
    if (!version.updatedRedactionRules) pdu.origin = domainOf(init.sender) ?? '';
    byId.set(id, pdu);
    return pdu;
  };
  const addState = (init: StateInit): void => {
    counter += 1;
    const pdu = build({ ...init, sender: init.sender ?? ALICE }, `$state-${counter}`);
    state.set(stateKey(pdu.type, init.state_key), pdu);
  };

  const createContent: JsonObject = {
    room_version: version.id,
    ...(version.implicitRoomCreator ? {} : { creator: ALICE }),
  };
  const create = build(
    {
      type: 'm.room.create',
      sender: ALICE,
      state_key: '',
      content: { ...createContent, ...setup.createContent },
      room_id: version.roomIdFromCreateEvent ? null : roomId,
    },
    createId,
  );
  state.set(stateKey('m.room.create', ''), create);

  const members: Record<string, string | JsonObject | null> = { [ALICE]: 'join', ...setup.members };
  for (const [user, m] of Object.entries(members)) {
    if (m === null) continue;
    addState({
      type: 'm.room.member',
      state_key: user,
      sender: user,
      content: typeof m === 'string' ? { membership: m } : m,
    });
  }
  if (setup.powerLevels) addState({ type: 'm.room.power_levels', state_key: '', content: setup.powerLevels });
  if (setup.joinRule) addState({ type: 'm.room.join_rules', state_key: '', content: { join_rule: setup.joinRule } });
  for (const extra of setup.extraState ?? []) addState(extra);

  return {
    version,
    roomId,
    create,
    state,
    byId,
    lookup,
    event(init) {
      counter += 1;
      return build(init, `$event-${counter}`);
    },
  };
}

function shapeOf(init: EventInit): Pick<Pdu, 'type' | 'sender' | 'content'> & { state_key?: string } {
  return {
    type: init.type,
    sender: init.sender,
    content: init.content ?? {},
    ...(init.state_key === undefined ? {} : { state_key: init.state_key }),
  };
}

/** Power levels with MOD at 50 and ADMIN at 100; everybody else at the default 0. */
export const STAFF_LEVELS: JsonObject = { users: { [MOD]: 50, [ADMIN]: 100 } };

/** A room with STAFF_LEVELS whose MOD and ADMIN are joined, plus `extra`. */
export function staffRoom(extra: RoomSetup = {}): RoomSetup {
  return { powerLevels: STAFF_LEVELS, ...extra, members: { [MOD]: 'join', [ADMIN]: 'join', ...extra.members } };
}

/** Shorthand for an m.room.member event. */
export function member(sender: string, target: string, membership: string, extra: JsonObject = {}): EventInit {
  return { type: 'm.room.member', sender, state_key: target, content: { membership, ...extra } };
}

/** One row of an authorization table. */
export interface AuthCase {
  name: string;
  /** Room versions the row applies to; 10, 11 and 12 (ALL_VERSIONS) if omitted. */
  versions?: readonly string[];
  setup?: RoomSetup;
  event: EventInit | ((room: TestRoom) => EventInit);
  /** true, or a substring of the expected denial reason. */
  expect: true | string;
  options?: AuthOptions;
}

export function expectResult(result: AuthResult, expected: true | string): void {
  if (expected === true) {
    expect(result).toEqual({ allowed: true });
  } else {
    expect(result.allowed).toBe(false);
    if (!result.allowed) expect(result.reason).toContain(expected);
  }
}

/** Runs `cases` through checkEventAuth once per applicable room version. */
export function runAuthCases(title: string, cases: readonly AuthCase[]): void {
  describe(title, () => {
    for (const version of EVERY_VERSION) {
      const rows = cases.filter((c) => (c.versions ? c.versions.includes(version.id) : ALL_VERSIONS.includes(version)));
      if (rows.length === 0) continue;
      describe(`room v${version.id}`, () => {
        it.each(rows)('$name', (c) => {
          const room = makeRoom(version, c.setup);
          const init = typeof c.event === 'function' ? c.event(room) : c.event;
          expectResult(checkEventAuth(room.event(init), room.lookup, version, c.options), c.expect);
        });
      });
    }
  });
}
