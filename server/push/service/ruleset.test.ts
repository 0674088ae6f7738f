import { describe, expect, it } from 'vitest';
import { MatrixError } from '../../http/matrix-error.ts';
import type { RuleKind } from '../default-rules.ts';
import {
  changeRule,
  copyRoomRules,
  deleteRule,
  effectiveRuleset,
  emptyUserRules,
  findRule,
  normalizeActions,
  putRule,
  type NewRule,
  type UserPushRules,
} from './ruleset.ts';

const USER = '@alice:example.org';
const ids = (doc: UserPushRules, kind: RuleKind) => effectiveRuleset(USER, doc)[kind].map((r) => r.rule_id);

function errorOf(fn: () => unknown): { status: number; errcode: string } | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof MatrixError) return { status: e.status, errcode: e.errcode };
    throw e;
  }
  return undefined;
}

describe('effective ruleset', () => {
  it('puts user override rules after .m.rule.master and before the other defaults', () => {
    const doc = putRule(emptyUserRules(), 'override', 'mine', { actions: [], conditions: [] }, {});
    expect(ids(doc, 'override').slice(0, 3)).toEqual(['.m.rule.master', 'mine', '.m.rule.suppress_notices']);
  });

  it('puts user content and underride rules before the defaults; room and sender hold user rules only', () => {
    let doc = putRule(emptyUserRules(), 'content', 'cake', { actions: ['notify'], pattern: 'cake' }, {});
    doc = putRule(doc, 'underride', 'late', { actions: ['notify'] }, {});
    doc = putRule(doc, 'room', '!r:example.org', { actions: [] }, {});
    expect(ids(doc, 'content')).toEqual(['cake', '.m.rule.contains_user_name']);
    expect(ids(doc, 'underride')[0]).toBe('late');
    expect(effectiveRuleset(USER, doc).room).toEqual([{ rule_id: '!r:example.org', default: false, enabled: true, actions: [] }]);
  });

  it('formats user rules per kind', () => {
    let doc = putRule(emptyUserRules(), 'content', 'cake', { actions: ['notify'], pattern: 'cake', conditions: [{ kind: 'x' }] }, {});
    doc = putRule(doc, 'override', 'o', { actions: ['notify'] }, {});
    expect(findRule(USER, doc, 'content', 'cake')).toEqual({
      rule_id: 'cake',
      default: false,
      enabled: true,
      actions: ['notify'],
      pattern: 'cake',
    });
    expect(findRule(USER, doc, 'override', 'o')).toEqual({
      rule_id: 'o',
      default: false,
      enabled: true,
      actions: ['notify'],
      conditions: [],
    });
  });
});

describe('putRule placement', () => {
  const three = () => {
    let doc = emptyUserRules();
    for (const id of ['c', 'b', 'a']) doc = putRule(doc, 'override', id, { actions: [] }, {});
    return doc;
  };
  it.each([
    ['new, no anchor: most important', 'n', {}, ['n', 'a', 'b', 'c']],
    ['new, before b', 'n', { before: 'b' }, ['a', 'n', 'b', 'c']],
    ['new, after b', 'n', { after: 'b' }, ['a', 'b', 'n', 'c']],
    ['before wins over after', 'n', { before: 'a', after: 'c' }, ['n', 'a', 'b', 'c']],
    ['existing, no anchor: stays where it is', 'b', {}, ['a', 'b', 'c']],
    ['existing, moved after c', 'a', { after: 'c' }, ['b', 'c', 'a']],
    ['existing, moved before a', 'c', { before: 'a' }, ['c', 'a', 'b']],
  ] as const)('%s', (_name, id, place, order) => {
    const doc = putRule(three(), 'override', id, { actions: [] }, place);
    expect(ids(doc, 'override').filter((r) => !r.startsWith('.'))).toEqual(order);
  });

  it('keeps a disabled rule disabled when it is updated', () => {
    let doc = changeRule(USER, three(), 'override', 'a', { enabled: false });
    doc = putRule(doc, 'override', 'a', { actions: ['notify'] }, {});
    expect(findRule(USER, doc, 'override', 'a')).toMatchObject({ enabled: false, actions: ['notify'] });
  });

  it.each([
    ['a reserved rule id', 'override', '.m.rule.mine', {}, {}, { status: 400, errcode: 'M_INVALID_PARAM' }],
    ['a slash in the rule id', 'override', 'a/b', {}, {}, { status: 400, errcode: 'M_INVALID_PARAM' }],
    ['a backslash in the rule id', 'override', 'a\\b', {}, {}, { status: 400, errcode: 'M_INVALID_PARAM' }],
    ['a content rule without pattern', 'content', 'x', {}, {}, { status: 400, errcode: 'M_MISSING_PARAM' }],
    ['an unknown anchor', 'override', 'x', {}, { before: 'nope' }, { status: 400, errcode: 'M_UNKNOWN' }],
    ['a server-default anchor', 'override', 'x', {}, { after: '.m.rule.master' }, { status: 400, errcode: 'M_INVALID_PARAM' }],
    ['an unknown action', 'override', 'x', { actions: ['explode'] }, {}, { status: 400, errcode: 'M_INVALID_PARAM' }],
  ] as const)('rejects %s', (_name, kind, id, rule, place, error) => {
    expect(errorOf(() => putRule(emptyUserRules(), kind, id, { actions: [], ...(rule as Partial<NewRule>) }, place))).toEqual(error);
  });
});

describe('deleteRule and changeRule', () => {
  const doc = putRule(emptyUserRules(), 'sender', '@spam:example.org', { actions: [] }, {});

  it('deletes a user rule', () => {
    expect(effectiveRuleset(USER, deleteRule(USER, doc, 'sender', '@spam:example.org')).sender).toEqual([]);
  });

  it.each([
    ['a server-default rule', 'override', '.m.rule.master', { status: 400, errcode: 'M_INVALID_PARAM' }],
    ['an unknown rule', 'sender', '@nobody:example.org', { status: 404, errcode: 'M_NOT_FOUND' }],
    ['a default id under the wrong kind', 'underride', '.m.rule.master', { status: 404, errcode: 'M_NOT_FOUND' }],
  ] as const)('will not delete %s', (_name, kind, id, error) => {
    expect(errorOf(() => deleteRule(USER, doc, kind, id))).toEqual(error);
  });

  it('switches and re-actions server-default rules, keeping their place', () => {
    let changed = changeRule(USER, doc, 'override', '.m.rule.master', { enabled: true });
    changed = changeRule(USER, changed, 'underride', '.m.rule.message', { actions: ['notify', { set_tweak: 'sound', value: 'x' }] });
    const rules = effectiveRuleset(USER, changed);
    expect(rules.override[0]).toMatchObject({ rule_id: '.m.rule.master', enabled: true, default: true });
    expect(rules.underride.find((r) => r.rule_id === '.m.rule.message')).toMatchObject({
      actions: ['notify', { set_tweak: 'sound', value: 'x' }],
      enabled: true,
    });
  });

  it('answers 404 for an unknown rule', () => {
    expect(errorOf(() => changeRule(USER, doc, 'room', '!x:example.org', { enabled: false }))).toEqual({
      status: 404,
      errcode: 'M_NOT_FOUND',
    });
    expect(errorOf(() => findRule(USER, doc, 'room', '!x:example.org'))).toEqual({ status: 404, errcode: 'M_NOT_FOUND' });
  });
});

describe('normalizeActions', () => {
  it.each([
    [['notify'], ['notify']],
    [['dont_notify'], ['dont_notify']],
    [
      ['notify', 'coalesce', { set_tweak: 'highlight' }],
      ['notify', 'coalesce', { set_tweak: 'highlight' }],
    ],
    [[{ set_tweak: 'sound', value: 'x.wav', extra: 1 }], [{ set_tweak: 'sound', value: 'x.wav', extra: 1 }]],
  ])('%j -> %j', (input, output) => {
    expect(normalizeActions(input)).toEqual(output);
  });

  it.each([[['ring']], [[{ value: 1 }]], [[42]], [[null]]])('rejects %j', (input) => {
    expect(errorOf(() => normalizeActions(input))).toEqual({ status: 400, errcode: 'M_INVALID_PARAM' });
  });
});

describe('copyRoomRules (room upgrades)', () => {
  const OLD = '!old:example.org';
  const NEW = '!new:example.org';
  const inOld = [{ kind: 'event_match', key: 'room_id', pattern: OLD }];
  const base = (): UserPushRules => ({
    rules: {
      room: [{ rule_id: OLD, enabled: true, actions: ['dont_notify'] }],
      override: [
        {
          rule_id: 'quiet',
          enabled: true,
          actions: ['dont_notify'],
          conditions: [...inOld, { kind: 'event_match', key: 'type', pattern: 'm.room.message' }],
        },
        { rule_id: `named-${OLD}`, enabled: true, actions: ['notify'], conditions: inOld },
        { rule_id: 'off', enabled: false, actions: ['notify'], conditions: inOld },
        {
          rule_id: 'elsewhere',
          enabled: true,
          actions: ['notify'],
          conditions: [{ kind: 'event_match', key: 'room_id', pattern: '!x:y' }],
        },
      ],
      sender: [{ rule_id: '@bob:example.org', enabled: true, actions: ['dont_notify'] }],
    },
    defaults: {},
  });

  it('repeats enabled room and override rules about the old room right after each, with the room swapped', () => {
    const next = copyRoomRules(base(), OLD, NEW)!;
    expect(ids(next, 'room')).toEqual([OLD, NEW]);
    expect(next.rules.override!.map((r) => r.rule_id)).toEqual([
      'quiet',
      `quiet-${NEW}`,
      `named-${OLD}`,
      `named-${NEW}`,
      'off',
      'elsewhere',
    ]);
    expect(next.rules.override![1]!.conditions).toEqual([
      { kind: 'event_match', key: 'room_id', pattern: NEW },
      { kind: 'event_match', key: 'type', pattern: 'm.room.message' },
    ]);
    expect(next.rules.sender).toEqual(base().rules.sender);
  });

  it('leaves a rule the new room already has, and answers undefined when nothing is left to copy', () => {
    const once = copyRoomRules(base(), OLD, NEW)!;
    expect(copyRoomRules(once, OLD, NEW)).toBeUndefined();
    const own = putRule(base(), 'room', NEW, { actions: ['notify'] }, {});
    expect(copyRoomRules(own, OLD, NEW)!.rules.room!.find((r) => r.rule_id === NEW)!.actions).toEqual(['notify']);
    expect(copyRoomRules(emptyUserRules(), OLD, NEW)).toBeUndefined();
    expect(copyRoomRules(base(), '!other:example.org', NEW)).toBeUndefined();
  });
});
