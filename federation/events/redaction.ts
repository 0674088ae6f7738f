/**
 * The redaction algorithms of room versions 1-12 (spec: rooms/fragments
 * v1-redactions for v1-v5, v6-redactions for v6/v7, rooms/v8, v9-redactions
 * for v9/v10, and v11-redactions for v11/v12).
 *
 * Redaction decides what signatures and reference hashes (hence event ids)
 * cover, so it must match other servers byte for byte: keys are kept exactly as
 * the spec lists, nothing is added, normalised or defaulted.
 */
import type { JsonObject, Pdu } from './pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import type { PduDraft } from './event-json.ts';
import { getOwn, isRecord, pickKeys } from './json-object.ts';

/** Top-level keys kept in v1-v10. */
const TOP_LEVEL_V10: ReadonlySet<string> = new Set([
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'prev_state',
  'auth_events',
  'origin',
  'origin_server_ts',
  'membership',
]);

/** v11 stopped protecting `origin`, `membership` and `prev_state`. */
const TOP_LEVEL_V11: ReadonlySet<string> = new Set(
  [...TOP_LEVEL_V10].filter((k) => k !== 'origin' && k !== 'membership' && k !== 'prev_state'),
);

/** `'all'` keeps the whole content (the v11+ create event). */
type ContentRule = ReadonlySet<string> | 'all';

const POWER_LEVELS_V1 = new Set(['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default']);

/** v1-v5 (rooms/fragments/v1-redactions): also keeps the `aliases` of m.room.aliases. */
const CONTENT_V1: ReadonlyMap<string, ContentRule> = new Map<string, ContentRule>([
  ['m.room.member', new Set(['membership'])],
  ['m.room.create', new Set(['creator'])],
  ['m.room.join_rules', new Set(['join_rule'])],
  ['m.room.power_levels', POWER_LEVELS_V1],
  ['m.room.aliases', new Set(['aliases'])],
  ['m.room.history_visibility', new Set(['history_visibility'])],
]);

/** v6, v7: m.room.aliases is no longer special. */
const CONTENT_V6: ReadonlyMap<string, ContentRule> = new Map([...CONTENT_V1].filter(([type]) => type !== 'm.room.aliases'));

/** v8: restricted rooms, so join rules keep their `allow` list. */
const CONTENT_V8: ReadonlyMap<string, ContentRule> = new Map<string, ContentRule>([
  ...CONTENT_V6,
  ['m.room.join_rules', new Set(['join_rule', 'allow'])],
]);

/** v9, v10: a redacted restricted join must still show who authorised it. */
const CONTENT_V9: ReadonlyMap<string, ContentRule> = new Map<string, ContentRule>([
  ...CONTENT_V8,
  ['m.room.member', new Set(['membership', 'join_authorised_via_users_server'])],
]);

const CONTENT_V11: ReadonlyMap<string, ContentRule> = new Map<string, ContentRule>([
  // third_party_invite is handled separately: only its `signed` member survives.
  ['m.room.member', new Set(['membership', 'join_authorised_via_users_server'])],
  ['m.room.create', 'all'],
  ['m.room.join_rules', new Set(['join_rule', 'allow'])],
  [
    'm.room.power_levels',
    new Set(['ban', 'events', 'events_default', 'invite', 'kick', 'redact', 'state_default', 'users', 'users_default']),
  ],
  ['m.room.history_visibility', new Set(['history_visibility'])],
  // v11 moved `redacts` into content; keeping it lets a redacted redaction still be understood.
  ['m.room.redaction', new Set(['redacts'])],
]);

const CONTENT_RULES: Readonly<Record<RoomVersion['redactionRules'], ReadonlyMap<string, ContentRule>>> = {
  v1: CONTENT_V1,
  v6: CONTENT_V6,
  v8: CONTENT_V8,
  v9: CONTENT_V9,
  v11: CONTENT_V11,
};

const SIGNED_ONLY: ReadonlySet<string> = new Set(['signed']);

/**
 * Return the redacted copy of an event (PDU or client-format event JSON).
 * The input is not modified; kept values are shared, not deep-copied.
 *
 * Notes on inputs the spec does not spell out:
 * - `unsigned` is not in the kept list, so it is removed. Callers serving a
 *   redacted event to clients add `unsigned.redacted_because` themselves.
 * - Content rules go by `type` alone, whether or not the event has a state_key,
 *   as the spec words them.
 * - A `content` that is present but not an object becomes `{}`; an absent
 *   `content` stays absent (redaction never adds keys).
 */
export function redactEvent(event: Pdu, version: RoomVersion): Pdu;
export function redactEvent(event: PduDraft, version: RoomVersion): PduDraft;
export function redactEvent(event: JsonObject, version: RoomVersion): JsonObject;
export function redactEvent(event: object, version: RoomVersion): object {
  return redactJson(event, version);
}

/** `redactEvent` for arbitrary objects, e.g. raw wire JSON that has not been typed yet. */
export function redactJson(event: object, version: RoomVersion): Record<string, unknown> {
  const v11 = version.updatedRedactionRules;
  const redacted = pickKeys(event, v11 ? TOP_LEVEL_V11 : TOP_LEVEL_V10);
  if (Object.prototype.hasOwnProperty.call(redacted, 'content')) {
    const type = getOwn(event, 'type');
    const content = getOwn(event, 'content');
    return { ...redacted, content: redactContent(typeof type === 'string' ? type : '', content, version) };
  }
  return redacted;
}

function redactContent(type: string, content: unknown, version: RoomVersion): Record<string, unknown> {
  if (!isRecord(content)) return {};
  const v11 = version.redactionRules === 'v11';
  const rule = CONTENT_RULES[version.redactionRules].get(type);
  if (rule === undefined) return {};
  if (rule === 'all') return { ...content };
  const kept = pickKeys(content, rule);
  if (v11 && type === 'm.room.member') {
    // v11 (MSC3821): keep third_party_invite so 3pid joins stay verifiable after
    // redaction, but only its `signed` block. A non-object value has no `signed`
    // to keep and is dropped; an object without `signed` is kept as `{}`, as the
    // v11 notes say it "is no longer redacted" but "will only contain the signed key".
    const invite = getOwn(content, 'third_party_invite');
    if (isRecord(invite)) return { ...kept, third_party_invite: pickKeys(invite, SIGNED_ONLY) };
  }
  return kept;
}
