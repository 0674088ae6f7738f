import { describe, expect, it } from 'vitest';
import { defaultRules, RULE_KINDS, type PushRule, type RuleKind } from './default-rules.ts';

const USER = '@alice:example.org';
const rules = defaultRules(USER);

/** The spec's definitions (client-server API, "Predefined Rules"; legacy ones as of v1.16), in priority order per kind. */
const expected: Array<{ kind: RuleKind; rule: Omit<PushRule, 'default'> }> = [
  { kind: 'override', rule: { rule_id: '.m.rule.master', enabled: false, conditions: [], actions: [] } },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.suppress_notices',
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'content.msgtype', pattern: 'm.notice' }],
      actions: [],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.invite_for_me',
      enabled: true,
      conditions: [
        { kind: 'event_match', key: 'type', pattern: 'm.room.member' },
        { kind: 'event_match', key: 'content.membership', pattern: 'invite' },
        { kind: 'event_match', key: 'state_key', pattern: USER },
      ],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.member_event',
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.room.member' }],
      actions: [],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.is_user_mention',
      enabled: true,
      conditions: [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: USER }],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.contains_display_name',
      enabled: true,
      conditions: [{ kind: 'contains_display_name' }],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.is_room_mention',
      enabled: true,
      conditions: [
        { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
        { kind: 'sender_notification_permission', key: 'room' },
      ],
      actions: ['notify', { set_tweak: 'highlight' }],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.roomnotif',
      enabled: true,
      conditions: [
        { kind: 'event_match', key: 'content.body', pattern: '@room' },
        { kind: 'sender_notification_permission', key: 'room' },
      ],
      actions: ['notify', { set_tweak: 'highlight' }],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.tombstone',
      enabled: true,
      conditions: [
        { kind: 'event_match', key: 'type', pattern: 'm.room.tombstone' },
        { kind: 'event_match', key: 'state_key', pattern: '' },
      ],
      actions: ['notify', { set_tweak: 'highlight' }],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.reaction',
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.reaction' }],
      actions: [],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.room.server_acl',
      enabled: true,
      conditions: [
        { kind: 'event_match', key: 'type', pattern: 'm.room.server_acl' },
        { kind: 'event_match', key: 'state_key', pattern: '' },
      ],
      actions: [],
    },
  },
  {
    kind: 'override',
    rule: {
      rule_id: '.m.rule.suppress_edits',
      enabled: true,
      conditions: [{ kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' }],
      actions: [],
    },
  },
  {
    kind: 'content',
    rule: {
      rule_id: '.m.rule.contains_user_name',
      enabled: true,
      pattern: 'alice',
      actions: ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
    },
  },
  {
    kind: 'underride',
    rule: {
      rule_id: '.m.rule.call',
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.call.invite' }],
      actions: ['notify', { set_tweak: 'sound', value: 'ring' }],
    },
  },
  {
    kind: 'underride',
    rule: {
      rule_id: '.m.rule.encrypted_room_one_to_one',
      enabled: true,
      conditions: [
        { kind: 'room_member_count', is: '2' },
        { kind: 'event_match', key: 'type', pattern: 'm.room.encrypted' },
      ],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }],
    },
  },
  {
    kind: 'underride',
    rule: {
      rule_id: '.m.rule.room_one_to_one',
      enabled: true,
      conditions: [
        { kind: 'room_member_count', is: '2' },
        { kind: 'event_match', key: 'type', pattern: 'm.room.message' },
      ],
      actions: ['notify', { set_tweak: 'sound', value: 'default' }],
    },
  },
  {
    kind: 'underride',
    rule: {
      rule_id: '.m.rule.message',
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }],
      actions: ['notify'],
    },
  },
  {
    kind: 'underride',
    rule: {
      rule_id: '.m.rule.encrypted',
      enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.room.encrypted' }],
      actions: ['notify'],
    },
  },
];

describe('server-default push rules', () => {
  it.each(expected.map((e) => [e.rule.rule_id, e.kind, e.rule] as const))('%s (%s) is defined as in the spec', (ruleId, kind, rule) => {
    expect(rules[kind].find((r) => r.rule_id === ruleId)).toEqual({ ...rule, default: true });
  });

  it.each(RULE_KINDS.map((k) => [k] as const))('%s rules come in the spec order and nothing else', (kind) => {
    expect(rules[kind].map((r) => r.rule_id)).toEqual(expected.filter((e) => e.kind === kind).map((e) => e.rule.rule_id));
  });

  it('puts .m.rule.master first, every rule id starts with a dot, and each is marked default', () => {
    expect(rules.override[0]!.rule_id).toBe('.m.rule.master');
    for (const kind of RULE_KINDS) for (const r of rules[kind]) expect([r.rule_id.startsWith('.'), r.default]).toEqual([true, true]);
  });

  it.each([
    ['@bob:example.org', 'bob'],
    ['@carol.c-d_e:hs.example:8448', 'carol.c-d_e'],
  ])('is specific to the user %s', (userId, localpart) => {
    const own = defaultRules(userId);
    expect(own.content[0]!.pattern).toBe(localpart);
    expect(own.override.find((r) => r.rule_id === '.m.rule.invite_for_me')!.conditions![2]!.pattern).toBe(userId);
    expect(own.override.find((r) => r.rule_id === '.m.rule.is_user_mention')!.conditions![0]!.value).toBe(userId);
  });

  it('returns a fresh ruleset each time (callers may change it)', () => {
    const a = defaultRules(USER);
    a.override[0]!.enabled = true;
    expect(defaultRules(USER).override[0]!.enabled).toBe(false);
  });
});
