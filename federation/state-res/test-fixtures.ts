/**
 * Test-only helpers: PDU builders, a deliberately small fake auth check, and
 * a room DAG harness in which the state before each event is the resolution
 * of the states after its prev_events (rooms/v2 "State resolution" preamble).
 * Not exported from index.ts.
 */
import { stateKey, type JsonObject, type JsonValue, type Pdu, type StateMap } from '../events/pdu.ts';
import { ROOM_VERSIONS, type RoomVersion } from '../room-versions.ts';
import { resolveStateV1 } from './state-res-v1.ts';
import { resolveState } from './state-res-v2.ts';
import type { AuthCheck, AuthResult, FetchEvent, ResolveStateOptions } from './types.ts';

export const ALICE = '@alice:example.org';
export const BOB = '@bob:example.org';
export const CHARLIE = '@charlie:example.org';
export const ZARA = '@zara:example.org';
export const ELLA = '@ella:example.org';

export function version(id: '1' | '2' | '10' | '11' | '12'): RoomVersion {
  const v = ROOM_VERSIONS.get(id);
  if (!v) throw new Error(`unknown room version ${id}`);
  return v;
}

/** A PDU with dummy hashes/signatures. `id` becomes `$id`. */
export function pdu(fields: Partial<Pdu> & { id: string; type: string; sender: string }): Pdu {
  const { id, ...rest } = fields;
  return {
    event_id: `$${id}`,
    room_id: '!room:example.org',
    content: {},
    origin_server_ts: 0,
    depth: 1,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'dummy' },
    signatures: {},
    ...rest,
  };
}

export function fetcherOf(events: Iterable<Pdu>): FetchEvent {
  const byId = new Map<string, Pdu>();
  for (const e of events) byId.set(e.event_id, e);
  return (id) => byId.get(id);
}

const allow: AuthResult = { allowed: true };
const deny = (reason: string): AuthResult => ({ allowed: false, reason });

function int(value: JsonValue | undefined, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

/**
 * A minimal stand-in for the authorisation rules, enough for the scenarios:
 * create, first join by the creator, joins under public/invite join rules,
 * invites, leaves/kicks, bans, "sender must be joined", required power level
 * (events / state_default / events_default) and the power-levels `users`
 * change rules. v12 creators have infinite power.
 */
export const fakeAuth: AuthCheck = (event, authState, v) => {
  if (event.type === 'm.room.create') return event.prev_events.length === 0 ? allow : deny('create with prevs');
  const create = authState('m.room.create', '');
  if (!create) return deny('no create event');
  const pl = authState('m.room.power_levels', '');
  const creators = new Set([create.sender]);
  const level = (user: string): number => {
    if (v.privilegedCreators && creators.has(user)) return Infinity;
    if (!pl) return user === create.sender ? 100 : 0;
    const users = pl.content['users'] as JsonObject | undefined;
    return int(users?.[user], int(pl.content['users_default'], 0));
  };
  const plLevel = (key: string, fallback: number): number => (pl ? int(pl.content[key], fallback) : fallback);
  const membership = (user: string): JsonValue | undefined => authState('m.room.member', user)?.content['membership'];
  const senderLevel = level(event.sender);

  if (event.type === 'm.room.member') {
    const target = event.state_key ?? '';
    const wanted = event.content['membership'];
    const targetMembership = membership(target);
    const senderMembership = membership(event.sender);
    switch (wanted) {
      case 'join': {
        if (event.sender !== target) return deny('join for someone else');
        if (event.sender === create.sender && event.prev_events.join() === create.event_id) return allow;
        if (targetMembership === 'ban') return deny('banned');
        const joinRule = authState('m.room.join_rules', '')?.content['join_rule'] ?? 'invite';
        if (joinRule === 'public') return allow;
        return targetMembership === 'invite' || targetMembership === 'join' ? allow : deny('not invited');
      }
      case 'invite':
        if (senderMembership !== 'join') return deny('inviter not joined');
        if (targetMembership === 'join' || targetMembership === 'ban') return deny('target joined or banned');
        return senderLevel >= plLevel('invite', 0) ? allow : deny('invite level');
      case 'leave':
        if (event.sender === target) {
          return ['invite', 'join', 'knock'].includes(String(targetMembership)) ? allow : deny('not in room');
        }
        if (senderMembership !== 'join') return deny('kicker not joined');
        if (targetMembership === 'ban' && senderLevel < plLevel('ban', 50)) return deny('unban level');
        return senderLevel >= plLevel('kick', 50) && level(target) < senderLevel ? allow : deny('kick level');
      case 'ban':
        if (senderMembership !== 'join') return deny('banner not joined');
        return senderLevel >= plLevel('ban', 50) && level(target) < senderLevel ? allow : deny('ban level');
      default:
        return deny('unknown membership');
    }
  }

  if (membership(event.sender) !== 'join') return deny('sender not joined');
  const events = pl?.content['events'] as JsonObject | undefined;
  const required = int(events?.[event.type], event.state_key === undefined ? plLevel('events_default', 0) : plLevel('state_default', 50));
  if (senderLevel < required) return deny('below required power level');

  if (event.type === 'm.room.power_levels' && pl) {
    const before = (pl.content['users'] ?? {}) as JsonObject;
    const after = (event.content['users'] ?? {}) as JsonObject;
    for (const user of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const old = before[user];
      const next = after[user];
      if (old === next) continue;
      if (user !== event.sender && old !== undefined && int(old, 0) >= senderLevel) return deny('demoting a peer');
      if (next !== undefined && int(next, 0) > senderLevel) return deny('promoting above self');
    }
  }
  return allow;
};

export interface NodeSpec {
  type: string;
  sender: string;
  stateKey?: string;
  content?: JsonObject;
}

/**
 * A room built event by event. Timestamps increase in insertion order. Each
 * event's auth events are selected from its state before (create — not in
 * v12 —, power levels, sender's membership, target's membership, and join
 * rules for joins/invites), like the server-server "auth events selection".
 */
export class RoomGraph {
  readonly events = new Map<string, Pdu>();
  private readonly stateAfter = new Map<string, StateMap>();
  private ts = 0;
  readonly roomId: string;
  readonly fetch: FetchEvent = (id) => this.events.get(id);

  constructor(
    readonly version: RoomVersion,
    readonly options: ResolveStateOptions = {},
  ) {
    this.roomId = version.roomIdFromCreateEvent ? '!CREATE' : '!room:example.org';
  }

  /** Resolves the states after the given events (names without `$`). */
  resolve(prevNames: readonly string[]): StateMap {
    const states = prevNames.map((n) => {
      const s = this.stateAfter.get(`$${n}`);
      if (!s) throw new Error(`unknown event ${n}`);
      return s;
    });
    if (states.length === 0) return new Map();
    if (states.length === 1) return new Map(states[0]);
    if (this.version.stateRes === 'v1') return resolveStateV1(states, this.fetch, this.version, fakeAuth);
    return resolveState(states, this.fetch, this.version, fakeAuth, this.options);
  }

  add(name: string, spec: NodeSpec, prevNames: readonly string[]): Pdu {
    const before = this.resolve(prevNames);
    const pick = (type: string, key: string): string[] => {
      const id = before.get(stateKey(type, key));
      return id === undefined ? [] : [id];
    };
    const auth = new Set<string>();
    if (!this.version.roomIdFromCreateEvent) pick('m.room.create', '').forEach((id) => auth.add(id));
    pick('m.room.power_levels', '').forEach((id) => auth.add(id));
    pick('m.room.member', spec.sender).forEach((id) => auth.add(id));
    if (spec.type === 'm.room.member') {
      pick('m.room.member', spec.stateKey ?? '').forEach((id) => auth.add(id));
      const m = spec.content?.['membership'];
      if (m === 'join' || m === 'invite') pick('m.room.join_rules', '').forEach((id) => auth.add(id));
    }
    const isCreate = spec.type === 'm.room.create';
    const event = pdu({
      id: name,
      type: spec.type,
      sender: spec.sender,
      content: spec.content ?? {},
      origin_server_ts: ++this.ts,
      prev_events: prevNames.map((n) => `$${n}`),
      // State res v1 orders by depth; v2 ignores it.
      depth: Math.max(0, ...prevNames.map((n) => this.events.get(`$${n}`)?.depth ?? 0)) + 1,
      auth_events: [...auth],
      room_id: this.roomId,
      ...(spec.stateKey === undefined ? {} : { state_key: spec.stateKey }),
    });
    // v12: the create event has no room_id (the room id is derived from it).
    if (isCreate && this.version.roomIdFromCreateEvent) delete event.room_id;
    this.events.set(event.event_id, event);
    const after = new Map(before);
    if (event.state_key !== undefined) after.set(stateKey(event.type, event.state_key), event.event_id);
    this.stateAfter.set(event.event_id, after);
    return event;
  }

  /** Power levels content: pre-v12 the creator (alice) needs an explicit 100; v12 forbids listing creators. */
  powerLevels(users: Record<string, number>): JsonObject {
    return { users: this.version.privilegedCreators ? users : { [ALICE]: 100, ...users } };
  }

  /**
   * The usual starting room: CREATE, IMA (alice joins), IPOWER, IJR (public),
   * IMB, IMC, IMZ (bob, charlie, zara join), linearly.
   */
  static standard(version: RoomVersion, options: ResolveStateOptions = {}): RoomGraph {
    const g = new RoomGraph(version, options);
    const createContent: JsonObject = version.implicitRoomCreator
      ? { room_version: version.id }
      : { room_version: version.id, creator: ALICE };
    g.add('CREATE', { type: 'm.room.create', sender: ALICE, stateKey: '', content: createContent }, []);
    g.add('IMA', member(ALICE, ALICE, 'join'), ['CREATE']);
    g.add('IPOWER', { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: g.powerLevels({}) }, ['IMA']);
    g.add('IJR', { type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'public' } }, ['IPOWER']);
    g.add('IMB', member(BOB, BOB, 'join'), ['IJR']);
    g.add('IMC', member(CHARLIE, CHARLIE, 'join'), ['IMB']);
    g.add('IMZ', member(ZARA, ZARA, 'join'), ['IMC']);
    return g;
  }

  /** Resolved state as { "type|state_key": "NAME" } for readable assertions. */
  named(state: StateMap): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, id] of state) out[key.replace('\u0000', '|')] = id.slice(1);
    return out;
  }
}

export function member(sender: string, target: string, membership: string): NodeSpec {
  return { type: 'm.room.member', sender, stateKey: target, content: { membership } };
}

export function topic(sender: string, text: string): NodeSpec {
  return { type: 'm.room.topic', sender, stateKey: '', content: { topic: text } };
}

export function powerLevels(sender: string, content: JsonObject): NodeSpec {
  return { type: 'm.room.power_levels', sender, stateKey: '', content };
}
