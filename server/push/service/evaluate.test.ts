import { describe, expect, it } from 'vitest';
import { type PushCondition } from '../default-rules.ts';
import { globMatches, MAX_BODY_LENGTH, memberCountMatches, parseKeyPath, valueAtPath } from './evaluate.ts';

import { evaluate, holds, input, message, only, text, type Event } from './evaluate-fixtures.ts';

describe('dot-separated key paths', () => {
  it.each<[string, string[]]>([
    ['content.body', ['content', 'body']],
    ['type', ['type']],
    ['content.m\\.relates_to.rel_type', ['content', 'm.relates_to', 'rel_type']],
    ['content.m\\\\foo', ['content', 'm\\foo']],
    ['content.m\\x', ['content', 'm\\x']],
    ['a\\\\.b', ['a\\', 'b']],
    ['a..b', ['a', '', 'b']],
    ['', ['']],
  ])('%s', (key, path) => expect(parseKeyPath(key)).toEqual(path));

  it('walks own object properties only, not arrays or prototypes', () => {
    const event = { content: { list: ['x'], 'm.x': 1, nested: { deep: null } } };
    expect(valueAtPath(event, ['content', 'm.x'])).toBe(1);
    expect(valueAtPath(event, ['content', 'nested', 'deep'])).toBeNull();
    expect(valueAtPath(event, ['content', 'list', '0'])).toBeUndefined();
    expect(valueAtPath(event, ['content', 'constructor'])).toBeUndefined();
    expect(valueAtPath(event, ['content', '__proto__'])).toBeUndefined();
    expect(valueAtPath(event, ['content', 'missing', 'x'])).toBeUndefined();
  });
});

describe('glob matching of a whole value', () => {
  it.each<[string, string, boolean]>([
    // The spec's example: `lunc?*` against content.topic.
    ['lunc?*', 'Lunch plans', true],
    ['lunc?*', 'LUNCH', true],
    ['lunc?*', ' lunch', false],
    ['lunc?*', 'lunc', false],
    ['m.room.message', 'm.room.message', true],
    ['m.room.message', 'M.ROOM.MESSAGE', true],
    ['m.room.message', 'm.room.messages', false],
    ['m.room.message', 'xm.room.message', false],
    ['m.room.*', 'm.room.member', true],
    ['*', '', true],
    ['', '', true],
    ['', 'x', false],
    ['a**b', 'ab', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxcyyb', false],
    ['a*a', 'a', false],
    ['*.ogg', 'x.mp3.ogg', true],
    // Regex metacharacters are literal.
    ['a.b', 'axb', false],
    ['a.b', 'A.B', true],
    ['a+b', 'aab', false],
    ['a+b', 'a+b', true],
    ['(x|y)', 'x', false],
    ['(x|y)', '(x|y)', true],
    ['[ab]', 'a', false],
    ['[ab]', '[AB]', true],
    ['^$', '^$', true],
    ['\\d', '1', false],
    ['\\d', '\\d', true],
    ['a{2}', 'aa', false],
    ['/-\\', '/-\\', true],
    // `?` is one character (a code point), `*` crosses lines.
    ['?', '🎉', true],
    ['??', '🎉', false],
    ['a?b', 'a\nb', true],
    ['a*b', 'a\n\nb', true],
    // Case-insensitivity beyond ASCII.
    ['ÉCOLE', 'école', true],
    ['straße', 'STRASSE', false],
    ['σ', 'Σ', true],
  ])('%j ~ %j: %s', (pattern, value, expected) => expect(globMatches(pattern, value, 'whole')).toBe(expected));
});

describe('glob matching at word boundaries (content.body)', () => {
  it.each<[string, string, boolean]>([
    // The spec's example: `ex*ple`.
    ['ex*ple', 'An example event.', true],
    ['ex*ple', 'exple', true],
    ['ex*ple', 'An exciting triple-whammy', true],
    ['ex*ple', 'examples', false],
    ['ex*ple', 'an xexample', false],
    ['cake', 'cake', true],
    ['cake', 'I like cake', true],
    ['cake', 'CAKE!', true],
    ['cake', '(cake)', true],
    ['cake', 'cake.', true],
    ['cake', 'line one\ncake\nline three', true],
    ['cake', 'cakes', false],
    ['cake', 'cupcake', false],
    ['cake', 'cake_time', false],
    ['cake', 'cake1', false],
    ['cake', '2cake', false],
    // Only [A-Za-z0-9_] are word characters: letters outside ASCII are boundaries.
    ['cake', 'écake', true],
    ['cake', 'cakeé', true],
    ['cake', 'ケーキcakeケーキ', true],
    ['cake', '🎂cake🎂', true],
    ['café', 'un café!', true],
    // é is not a word character, so a pattern ending in it ends at a boundary whatever follows.
    ['café', 'un cafés', true],
    ['cafe', 'un cafés', false],
    ['café', 'cafée', true],
    // A pattern starting or ending with a non-word character is itself at a boundary.
    ['@room', '@room', true],
    ['@room', 'hi @room!', true],
    ['@room', 'foo@room', true],
    ['@room', '@roomy', false],
    ['@room', '@ROOM', true],
    ['alice:', 'alice: hi', true],
    // Wildcards may span words.
    ['c?ke', 'c ke', true],
    ['tea*time', 'tea and time', true],
    ['tea*time', 'tea and timer', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['', 'x', true],
    ['a.b', 'axb', false],
    ['a.b', 'say a.b now', true],
  ])('%j in %j: %s', (pattern, body, expected) => expect(globMatches(pattern, body, 'word')).toBe(expected));

  it('stays fast on a pattern of many stars that cannot match (no catastrophic backtracking)', () => {
    const body = 'a'.repeat(MAX_BODY_LENGTH);
    const started = performance.now();
    expect(globMatches('*a*a*a*a*a*a*a*a*a*b', body, 'word')).toBe(false);
    expect(globMatches('a*a*a*a*a*a*a*a*a*b', body, 'whole')).toBe(false);
    expect(globMatches('??????????????????????b', '🎉'.repeat(10_000), 'word')).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('searches only the first 64 KiB of the body', () => {
    const long = (tail: string) => text(`${'x '.repeat(MAX_BODY_LENGTH / 2)}${tail}`);
    const cond: PushCondition = { kind: 'event_match', key: 'content.body', pattern: 'needle' };
    expect(holds(cond, long('needle'))).toBe(false);
    expect(holds(cond, text(`${'x '.repeat(1000)}needle`))).toBe(true);
  });
});

describe('conditions', () => {
  const relates = message({ body: 'x', 'm.relates_to': { rel_type: 'm.replace', event_id: '$o' }, 'm\\foo': 'bar' });

  it.each<[string, PushCondition, Event, boolean]>([
    ['event_match on type', { kind: 'event_match', key: 'type', pattern: 'm.room.message' }, text('x'), true],
    ['event_match other type', { kind: 'event_match', key: 'type', pattern: 'm.room.member' }, text('x'), false],
    [
      'event_match with an escaped dot',
      { kind: 'event_match', key: 'content.m\\.relates_to.rel_type', pattern: 'm.replace' },
      relates,
      true,
    ],
    [
      'event_match unescaped dot does not reach m.relates_to',
      { kind: 'event_match', key: 'content.m.relates_to.rel_type', pattern: '*' },
      relates,
      false,
    ],
    ['event_match with an escaped backslash', { kind: 'event_match', key: 'content.m\\\\foo', pattern: 'BAR' }, relates, true],
    ['event_match on a whole non-body value', { kind: 'event_match', key: 'content.msgtype', pattern: 'text' }, text('x'), false],
    ['event_match on an absent key, even with *', { kind: 'event_match', key: 'content.nope', pattern: '*' }, text('x'), false],
    ['event_match on a number', { kind: 'event_match', key: 'content.n', pattern: '*' }, message({ n: 1 }), false],
    ['event_match on a boolean', { kind: 'event_match', key: 'content.b', pattern: 'true' }, message({ b: true }), false],
    ['event_match on null', { kind: 'event_match', key: 'content.z', pattern: '*' }, message({ z: null }), false],
    ['event_match on an object', { kind: 'event_match', key: 'content', pattern: '*' }, text('x'), false],
    ['event_match on an array', { kind: 'event_match', key: 'content.a', pattern: '*' }, message({ a: ['x'] }), false],
    [
      'event_match with an empty pattern on an empty state_key',
      { kind: 'event_match', key: 'state_key', pattern: '' },
      { type: 't', state_key: '' },
      true,
    ],
    ['event_match with no pattern', { kind: 'event_match', key: 'type' }, text('x'), false],
    ['event_match with no key', { kind: 'event_match', pattern: '*' }, text('x'), false],
    ['event_match on content.body at word boundaries', { kind: 'event_match', key: 'content.body', pattern: 'beer' }, text('Beer?'), true],
    ['event_match on content.body inside a word', { kind: 'event_match', key: 'content.body', pattern: 'beer' }, text('beers'), false],
    [
      'event_property_is true',
      { kind: 'event_property_is', key: 'content.m\\.federate', value: true },
      message({ 'm.federate': true }),
      true,
    ],
    [
      'event_property_is "true" is not true',
      { kind: 'event_property_is', key: 'content.m\\.federate', value: true },
      message({ 'm.federate': 'true' }),
      false,
    ],
    [
      'event_property_is 1 is not true',
      { kind: 'event_property_is', key: 'content.m\\.federate', value: true },
      message({ 'm.federate': 1 }),
      false,
    ],
    ['event_property_is false', { kind: 'event_property_is', key: 'content.f', value: false }, message({ f: false }), true],
    ['event_property_is null', { kind: 'event_property_is', key: 'content.z', value: null }, message({ z: null }), true],
    ['event_property_is null on an absent key', { kind: 'event_property_is', key: 'content.z', value: null }, text('x'), false],
    ['event_property_is an integer', { kind: 'event_property_is', key: 'content.n', value: 42 }, message({ n: 42 }), true],
    ['event_property_is another integer', { kind: 'event_property_is', key: 'content.n', value: 42 }, message({ n: 43 }), false],
    ['event_property_is "42" is not 42', { kind: 'event_property_is', key: 'content.n', value: 42 }, message({ n: '42' }), false],
    ['event_property_is a string, exactly', { kind: 'event_property_is', key: 'content.msgtype', value: 'm.text' }, text('x'), true],
    [
      'event_property_is a string, not case-insensitively',
      { kind: 'event_property_is', key: 'content.msgtype', value: 'M.TEXT' },
      text('x'),
      false,
    ],
    ['event_property_is a string, not as a glob', { kind: 'event_property_is', key: 'content.msgtype', value: 'm.*' }, text('x'), false],
    ['event_property_is a float never matches', { kind: 'event_property_is', key: 'content.n', value: 1.5 }, message({ n: 1.5 }), false],
    [
      'event_property_is beyond 2**53 never matches',
      { kind: 'event_property_is', key: 'content.n', value: 2 ** 53 },
      message({ n: 2 ** 53 }),
      false,
    ],
    ['event_property_is with no value', { kind: 'event_property_is', key: 'content.z' }, message({ z: null }), false],
    ['event_property_is on an object', { kind: 'event_property_is', key: 'content', value: 'x' }, text('x'), false],
    [
      'event_property_contains a string',
      { kind: 'event_property_contains', key: 'content.alt_aliases', value: '#myroom:example.com' },
      message({ alt_aliases: ['#a:example.org', '#myroom:example.com'] }),
      true,
    ],
    [
      'event_property_contains a partial value',
      { kind: 'event_property_contains', key: 'content.alt_aliases', value: ':example.com' },
      message({ alt_aliases: ['#myroom:example.com'] }),
      false,
    ],
    [
      'event_property_contains case-sensitively',
      { kind: 'event_property_contains', key: 'content.l', value: 'A' },
      message({ l: ['a'] }),
      false,
    ],
    ['event_property_contains an integer', { kind: 'event_property_contains', key: 'content.l', value: 3 }, message({ l: [1, 3] }), true],
    ['event_property_contains "3" is not 3', { kind: 'event_property_contains', key: 'content.l', value: 3 }, message({ l: ['3'] }), false],
    ['event_property_contains true', { kind: 'event_property_contains', key: 'content.l', value: true }, message({ l: [{}, true] }), true],
    ['event_property_contains null', { kind: 'event_property_contains', key: 'content.l', value: null }, message({ l: [[], null] }), true],
    [
      'event_property_contains on a string, not an array',
      { kind: 'event_property_contains', key: 'content.l', value: 'a' },
      message({ l: 'a' }),
      false,
    ],
    ['event_property_contains on an absent key', { kind: 'event_property_contains', key: 'content.l', value: 'a' }, text('x'), false],
    [
      'event_property_contains an object never matches',
      { kind: 'event_property_contains', key: 'content.l', value: {} as never },
      message({ l: [{}] }),
      false,
    ],
    ['unknown condition kinds never match', { kind: 'org.example.always' }, text('x'), false],
    ['a condition with no kind never matches', { kind: undefined as unknown as string }, text('x'), false],
  ])('%s', (_name, condition, event, expected) => expect(holds(condition, event)).toBe(expected));

  it.each<[string | undefined, string, boolean]>([
    ['Alice', 'hello alice!', true],
    ['Alice', 'ALICE', true],
    ['Alice', 'Alice, hi', true],
    ['Alice', 'Alicex hi', false],
    ['Alice', 'malice', false],
    ['Alice', 'hé Alice', true],
    ['Alice Smith', 'hey alice smith how are you', true],
    ['Alice Smith', 'hey alice', false],
    ['Dr. Who', 'hey dr. who?', true],
    // The name is literal text, not a glob or a regex.
    ['A.B*', 'ping a.b* now', true],
    ['A.B*', 'ping axbyz now', false],
    ['?', 'who?', true],
    ['?', 'who', false],
    ['', 'anything', false],
    [undefined, 'anything', false],
  ])('contains_display_name %j in %j: %s', (displayName, body, expected) =>
    expect(holds({ kind: 'contains_display_name' }, text(body), { displayName })).toBe(expected),
  );

  it('contains_display_name needs a string body', () => {
    expect(holds({ kind: 'contains_display_name' }, message({ body: 7 }), { displayName: '7' })).toBe(false);
  });

  it.each<[unknown, number, boolean]>([
    ['2', 2, true],
    ['2', 3, false],
    ['==2', 2, true],
    ['==2', 1, false],
    ['<2', 1, true],
    ['<2', 2, false],
    ['>2', 3, true],
    ['>2', 2, false],
    ['<=2', 2, true],
    ['<=2', 3, false],
    ['>=2', 2, true],
    ['>=2', 1, false],
    ['02', 2, true],
    ['0', 0, true],
    // Malformed: never matches.
    ['=2', 2, false],
    ['!=2', 3, false],
    ['=<2', 2, false],
    ['<>2', 2, false],
    [' 2', 2, false],
    ['2 ', 2, false],
    ['-2', -2, false],
    ['2.0', 2, false],
    ['+2', 2, false],
    ['two', 2, false],
    ['', 0, false],
    ['<', 0, false],
    [2, 2, false],
    [undefined, 2, false],
  ])('room_member_count is %j with %d members: %s', (is, count, expected) => {
    expect(memberCountMatches(is, count)).toBe(expected);
    expect(holds({ kind: 'room_member_count', is: is as string }, text('x'), { memberCount: count })).toBe(expected);
  });

  it.each<[string | undefined, number, Record<string, number>, boolean]>([
    ['room', 50, { room: 50 }, true],
    ['room', 49, { room: 50 }, false],
    ['room', 50, {}, true],
    ['room', 49, {}, false],
    ['room', 0, { room: 0 }, true],
    ['room', 10, { room: 20 }, false],
    ['room', 100, { room: 100 }, true],
    ['room', -1, { room: 0 }, false],
    ['org.example', 50, { room: 100 }, true],
    ['org.example', 0, { room: 0 }, false],
    ['constructor', 0, {}, false],
    [undefined, 100, {}, false],
  ])('sender_notification_permission %j, sender at %d, notifications %j: %s', (key, level, levels, expected) => {
    const condition: PushCondition =
      key === undefined ? { kind: 'sender_notification_permission' } : { kind: 'sender_notification_permission', key };
    expect(holds(condition, text('x'), { senderPowerLevel: level, notificationPowerLevels: levels })).toBe(expected);
  });

  it('needs all of a rule’s conditions; none at all always matches', () => {
    const a: PushCondition = { kind: 'event_match', key: 'type', pattern: 'm.room.message' };
    const b: PushCondition = { kind: 'room_member_count', is: '2' };
    expect(evaluate(only([a, b]), input(text('x'), { memberCount: 2 }))?.ruleId).toBe('r');
    expect(evaluate(only([a, b]), input(text('x'), { memberCount: 3 }))).toBeUndefined();
    expect(evaluate(only([]), input({ type: 'anything' }))?.ruleId).toBe('r');
  });
});
