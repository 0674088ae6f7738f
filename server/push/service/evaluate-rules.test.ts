import { describe, expect, it } from 'vitest';
import { defaultRules, RULE_KINDS, type PushAction } from '../default-rules.ts';
import { createPushEvaluator, globMatches, highlights, notifies, type PushEvaluationInput } from './evaluate.ts';
import { changeRule, effectiveRuleset, emptyUserRules, putRule, type UserPushRules } from './ruleset.ts';
import { evaluate, HIGHLIGHT, input, message, only, ROOM, SENDER, sound, text, USER, type Event } from './evaluate-fixtures.ts';

describe('actions', () => {
  it.each<[PushAction[], boolean, boolean]>([
    [['notify'], true, false],
    [[], false, false],
    [['dont_notify'], false, false],
    [['coalesce'], false, false],
    [['notify', HIGHLIGHT], true, true],
    [['notify', { set_tweak: 'highlight', value: true }], true, true],
    [['notify', { set_tweak: 'highlight', value: false }], true, false],
    [['notify', { set_tweak: 'highlight', value: 'true' }], true, false],
    [[HIGHLIGHT], false, true],
    [['notify', HIGHLIGHT, { set_tweak: 'highlight', value: false }], true, false],
    [['notify', sound('default')], true, false],
  ])('%j: notify %s, highlight %s', (actions, notify, highlight) => {
    expect(notifies(actions)).toBe(notify);
    expect(highlights(actions)).toBe(highlight);
  });

  it('strips the historical dont_notify and coalesce from what it returns', () => {
    const ruleset = only([]);
    ruleset.override[0]!.actions = ['coalesce', 'dont_notify', { set_tweak: 'sound', value: 'x' }];
    expect(evaluate(ruleset, input(text('x')))).toEqual({
      ruleId: 'r',
      kind: 'override',
      actions: [sound('x')],
      notify: false,
      highlight: false,
    });
  });
});

describe('server-default rules (actions as the spec defines them)', () => {
  const mod = { senderPowerLevel: 50, notificationPowerLevels: { room: 50 } };
  const cases: Array<{ name: string; ruleId: string; event: Event; over?: Partial<PushEvaluationInput>; actions: PushAction[] }> = [
    {
      name: 'a notice',
      ruleId: '.m.rule.suppress_notices',
      event: message({ msgtype: 'm.notice', body: 'alice @room' }),
      over: mod,
      actions: [],
    },
    {
      name: 'an invite for me',
      ruleId: '.m.rule.invite_for_me',
      event: { type: 'm.room.member', state_key: USER, content: { membership: 'invite' }, sender: SENDER, room_id: ROOM },
      actions: ['notify', sound('default')],
    },
    {
      name: 'an invite for someone else',
      ruleId: '.m.rule.member_event',
      event: { type: 'm.room.member', state_key: '@carol:example.org', content: { membership: 'invite' }, sender: SENDER, room_id: ROOM },
      actions: [],
    },
    {
      name: 'a join',
      ruleId: '.m.rule.member_event',
      event: {
        type: 'm.room.member',
        state_key: SENDER,
        content: { membership: 'join', displayname: 'Alice' },
        sender: SENDER,
        room_id: ROOM,
      },
      over: { displayName: 'Alice' },
      actions: [],
    },
    {
      name: 'a mention of me in m.mentions',
      ruleId: '.m.rule.is_user_mention',
      event: message({ body: 'hello', 'm.mentions': { user_ids: ['@carol:example.org', USER] } }),
      actions: ['notify', sound('default'), HIGHLIGHT],
    },
    {
      name: 'my display name in the body (legacy)',
      ruleId: '.m.rule.contains_display_name',
      event: text('is Wonder Woman here?'),
      over: { displayName: 'Wonder Woman' },
      actions: ['notify', sound('default'), HIGHLIGHT],
    },
    {
      name: 'a room mention from someone allowed to',
      ruleId: '.m.rule.is_room_mention',
      event: message({ body: 'everyone!', 'm.mentions': { room: true } }),
      over: mod,
      actions: ['notify', HIGHLIGHT],
    },
    {
      name: '@room in the body from someone allowed to (legacy)',
      ruleId: '.m.rule.roomnotif',
      event: text('@room lunch is ready'),
      over: mod,
      actions: ['notify', HIGHLIGHT],
    },
    {
      name: 'a tombstone',
      ruleId: '.m.rule.tombstone',
      event: {
        type: 'm.room.tombstone',
        state_key: '',
        content: { body: 'moved', replacement_room: '!new:example.org' },
        sender: SENDER,
        room_id: ROOM,
      },
      actions: ['notify', HIGHLIGHT],
    },
    {
      name: 'a reaction',
      ruleId: '.m.rule.reaction',
      event: {
        type: 'm.reaction',
        content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '👍' } },
        sender: SENDER,
        room_id: ROOM,
      },
      actions: [],
    },
    {
      name: 'a server ACL',
      ruleId: '.m.rule.room.server_acl',
      event: { type: 'm.room.server_acl', state_key: '', content: { allow: ['*'] }, sender: SENDER, room_id: ROOM },
      actions: [],
    },
    {
      name: 'an edit',
      ruleId: '.m.rule.suppress_edits',
      event: message({ body: '* fixed', 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' } }),
      actions: [],
    },
    {
      name: 'my localpart in the body (legacy)',
      ruleId: '.m.rule.contains_user_name',
      event: text('ALICE: are you there?'),
      actions: ['notify', sound('default'), HIGHLIGHT],
    },
    {
      name: 'a call',
      ruleId: '.m.rule.call',
      event: { type: 'm.call.invite', content: {}, sender: SENDER, room_id: ROOM },
      actions: ['notify', sound('ring')],
    },
    {
      name: 'an encrypted event in a 1:1',
      ruleId: '.m.rule.encrypted_room_one_to_one',
      event: { type: 'm.room.encrypted', content: { algorithm: 'm.megolm.v1.aes-sha2' }, sender: SENDER, room_id: ROOM },
      over: { memberCount: 2 },
      actions: ['notify', sound('default')],
    },
    {
      name: 'a message in a 1:1',
      ruleId: '.m.rule.room_one_to_one',
      event: text('hi'),
      over: { memberCount: 2 },
      actions: ['notify', sound('default')],
    },
    { name: 'a message in a group', ruleId: '.m.rule.message', event: text('hi'), over: { memberCount: 3 }, actions: ['notify'] },
    {
      name: 'an encrypted event in a group',
      ruleId: '.m.rule.encrypted',
      event: { type: 'm.room.encrypted', content: { algorithm: 'm.megolm.v1.aes-sha2' }, sender: SENDER, room_id: ROOM },
      over: { memberCount: 3 },
      actions: ['notify'],
    },
    // Without the power to notify the room, room mentions are plain messages.
    {
      name: 'a room mention from someone not allowed to',
      ruleId: '.m.rule.message',
      event: message({ body: 'all', 'm.mentions': { room: true } }),
      actions: ['notify'],
    },
    { name: '@room from someone not allowed to', ruleId: '.m.rule.message', event: text('@room hi'), actions: ['notify'] },
    {
      name: 'a mention of someone else',
      ruleId: '.m.rule.message',
      event: message({ body: 'hi', 'm.mentions': { user_ids: ['@carol:example.org'] } }),
      actions: ['notify'],
    },
    { name: 'my localpart inside a word', ruleId: '.m.rule.message', event: text('malice aforethought'), actions: ['notify'] },
  ];

  it.each(cases)('$name fires $ruleId', ({ ruleId, event, over, actions }) => {
    const notify = actions.includes('notify');
    const highlight = actions.some((a) => typeof a === 'object' && a.set_tweak === 'highlight');
    const kind = RULE_KINDS.find((k) => defaultRules(USER)[k].some((r) => r.rule_id === ruleId));
    expect(evaluate(defaultRules(USER), input(event, over))).toEqual({ ruleId, kind, actions, notify, highlight });
  });

  it('has a case for every server-default rule', () => {
    const all = RULE_KINDS.flatMap((k) => defaultRules(USER)[k].map((r) => r.rule_id));
    const covered = new Set([...cases.map((c) => c.ruleId), '.m.rule.master']);
    expect(all.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('leaves .m.rule.master off by default, and when on it silences everything', () => {
    const invite = { type: 'm.room.member', state_key: USER, content: { membership: 'invite' }, sender: SENDER, room_id: ROOM };
    expect(evaluate(defaultRules(USER), input(invite))?.ruleId).toBe('.m.rule.invite_for_me');
    const muted = effectiveRuleset(USER, changeRule(USER, emptyUserRules(), 'override', '.m.rule.master', { enabled: true }));
    expect(evaluate(muted, input(invite))).toEqual({
      ruleId: '.m.rule.master',
      kind: 'override',
      actions: [],
      notify: false,
      highlight: false,
    });
  });

  it('matches nothing for events no rule is about', () => {
    expect(
      evaluate(defaultRules(USER), input({ type: 'm.room.topic', state_key: '', content: { topic: 'x' }, sender: SENDER, room_id: ROOM })),
    ).toBeUndefined();
    // A tombstone needs its state_key: without one it is not the state event the rule is about.
    expect(evaluate(defaultRules(USER), input({ type: 'm.room.tombstone', content: {}, sender: SENDER, room_id: ROOM }))).toBeUndefined();
  });
});

describe('precedence', () => {
  const put = (doc: UserPushRules, kind: Parameters<typeof putRule>[1], id: string, rule: Parameters<typeof putRule>[3]) =>
    putRule(doc, kind, id, rule, {});
  const winner = (doc: UserPushRules, event: Event, over: Partial<PushEvaluationInput> = {}) =>
    evaluate(effectiveRuleset(USER, doc), input(event, over));

  const everything = [
    (d: UserPushRules) =>
      put(d, 'underride', 'u', {
        actions: ['notify', sound('u')],
        conditions: [{ kind: 'event_match', key: 'content.body', pattern: 'cake' }],
      }),
    (d: UserPushRules) => put(d, 'sender', SENDER, { actions: ['notify', sound('s')] }),
    (d: UserPushRules) => put(d, 'room', ROOM, { actions: ['notify', sound('r')] }),
    (d: UserPushRules) => put(d, 'content', 'c', { actions: ['notify', sound('c')], pattern: 'cake' }),
    (d: UserPushRules) =>
      put(d, 'override', 'o', {
        actions: ['notify', sound('o')],
        conditions: [{ kind: 'event_match', key: 'content.body', pattern: 'cake' }],
      }),
  ];
  it.each<[string, number, string]>([
    ['underride beats the default underride rules', 1, 'u'],
    ['sender beats underride', 2, SENDER],
    ['room beats sender', 3, ROOM],
    ['content beats room', 4, 'c'],
    ['override beats content', 5, 'o'],
  ])('%s', (_name, count, ruleId) => {
    const doc = everything.slice(0, count).reduce((d, add) => add(d), emptyUserRules());
    expect(winner(doc, text('cake please'))?.ruleId).toBe(ruleId);
  });

  it('applies room and sender rules to their own room and sender only', () => {
    let doc = put(emptyUserRules(), 'room', '!other:example.org', { actions: [] });
    doc = put(doc, 'sender', '@carol:example.org', { actions: [] });
    expect(winner(doc, text('hi'))?.ruleId).toBe('.m.rule.message');
    expect(winner(doc, { ...text('hi'), room_id: '!other:example.org' })?.ruleId).toBe('!other:example.org');
    expect(winner(doc, { ...text('hi'), sender: '@carol:example.org' })?.ruleId).toBe('@carol:example.org');
  });

  it('reads a room rule stored with conditions as its room and its conditions', () => {
    const ruleset = defaultRules(USER);
    ruleset.room = [{ rule_id: ROOM, default: false, enabled: true, actions: [], conditions: [{ kind: 'room_member_count', is: '>10' }] }];
    expect(evaluate(ruleset, input(text('hi'), { memberCount: 11 }))?.ruleId).toBe(ROOM);
    expect(evaluate(ruleset, input(text('hi'), { memberCount: 5 }))?.ruleId).toBe('.m.rule.message');
  });

  it('takes the first matching rule within a kind ("time" before "tea")', () => {
    let doc = put(emptyUserRules(), 'content', 'tea', { actions: ['notify', sound('tea')], pattern: 'tea' });
    doc = put(doc, 'content', 'time', { actions: ['notify', sound('time')], pattern: 'time' });
    expect(winner(doc, text("It's time for tea"))?.ruleId).toBe('time');
    doc = putRule(doc, 'content', 'tea', { actions: ['notify', sound('tea')], pattern: 'tea' }, { before: 'time' });
    expect(winner(doc, text("It's time for tea"))?.ruleId).toBe('tea');
  });

  it('skips a disabled rule', () => {
    const notice = message({ msgtype: 'm.notice', body: 'beep' });
    expect(winner(emptyUserRules(), notice)?.ruleId).toBe('.m.rule.suppress_notices');
    const doc = changeRule(USER, emptyUserRules(), 'override', '.m.rule.suppress_notices', { enabled: false });
    expect(winner(doc, notice)).toMatchObject({ ruleId: '.m.rule.message', notify: true });
    const off = changeRule(USER, put(emptyUserRules(), 'content', 'c', { actions: ['notify'], pattern: 'beep' }), 'content', 'c', {
      enabled: false,
    });
    expect(winner(off, text('beep'))?.ruleId).toBe('.m.rule.message');
  });

  it('lets a user override with dont_notify silence even a mention of them', () => {
    const doc = put(emptyUserRules(), 'override', 'mute-room', {
      actions: ['dont_notify'],
      conditions: [{ kind: 'event_match', key: 'room_id', pattern: ROOM }],
    });
    const mention = message({ body: 'alice!', 'm.mentions': { user_ids: [USER] } });
    expect(winner(doc, mention)).toEqual({ ruleId: 'mute-room', kind: 'override', actions: [], notify: false, highlight: false });
    expect(winner(doc, { ...mention, room_id: '!elsewhere:example.org' })?.ruleId).toBe('.m.rule.is_user_mention');
  });

  it('puts .m.rule.master above user overrides', () => {
    let doc = put(emptyUserRules(), 'override', 'all', { actions: ['notify'] });
    expect(winner(doc, text('x'))?.ruleId).toBe('all');
    doc = changeRule(USER, doc, 'override', '.m.rule.master', { enabled: true });
    expect(winner(doc, text('x'))?.ruleId).toBe('.m.rule.master');
  });

  it('skips a rule with an unknown condition and goes on to the next', () => {
    const doc = put(emptyUserRules(), 'override', 'future', {
      actions: ['notify', HIGHLIGHT],
      conditions: [{ kind: 'org.example.future' }],
    });
    expect(winner(doc, text('x'))?.ruleId).toBe('.m.rule.message');
  });
});

describe('the pattern cache', () => {
  it('gives the same answers when it is far smaller than the patterns in use', () => {
    const tiny = createPushEvaluator({ maxCachedPatterns: 2 });
    const patterns = ['cake', 'tea', 'time', 'c*e', 'lunch', 't?a'];
    for (let round = 0; round < 3; round++) {
      for (const pattern of patterns) {
        const ruleset = only([{ kind: 'event_match', key: 'content.body', pattern }]);
        const expected = globMatches(pattern, 'time for tea and cake', 'word');
        expect(tiny(ruleset, input(text('time for tea and cake'))) !== undefined).toBe(expected);
      }
    }
  });
});
