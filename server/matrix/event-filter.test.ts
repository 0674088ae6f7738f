import { describe, expect, it } from 'vitest';
import { blocksAll, matchesFilter, typeMatches, type EventSelector } from './event-filter.ts';

const ev = (type: string, sender = '@a:x', content: Record<string, string> = {}) => ({ type, sender, content });

describe('matchesFilter', () => {
  const cases: Array<[string, EventSelector | undefined, ReturnType<typeof ev>, boolean, string?]> = [
    ['no filter', undefined, ev('m.room.message'), true],
    ['types exact', { types: ['m.room.message'] }, ev('m.room.message'), true],
    ['types miss', { types: ['m.room.topic'] }, ev('m.room.message'), false],
    ['types wildcard', { types: ['m.room.*'] }, ev('m.room.message'), true],
    ['types wildcard miss', { types: ['m.call.*'] }, ev('m.room.message'), false],
    ['not_types wins over types', { types: ['*'], not_types: ['m.room.message'] }, ev('m.room.message'), false],
    ['empty types matches nothing', { types: [] }, ev('m.room.message'), false],
    ['senders', { senders: ['@b:x'] }, ev('m.room.message', '@a:x'), false],
    ['not_senders', { not_senders: ['@a:x'] }, ev('m.room.message', '@a:x'), false],
    ['contains_url true', { contains_url: true }, ev('m.room.message', '@a:x', { url: 'mxc://x/y' }), true],
    ['contains_url true miss', { contains_url: true }, ev('m.room.message'), false],
    ['contains_url false', { contains_url: false }, ev('m.room.message', '@a:x', { url: 'mxc://x/y' }), false],
    ['rooms', { rooms: ['!a:x'] }, ev('m.room.message'), false, '!b:x'],
    ['not_rooms', { not_rooms: ['!b:x'] }, ev('m.room.message'), false, '!b:x'],
    ['dots are literal', { types: ['m.room.message'] }, ev('mXroomXmessage'), false],
  ];
  it.each(cases)('%s', (_name, filter, event, expected, roomId) => {
    expect(matchesFilter(filter, event, roomId)).toBe(expected);
  });
});

describe('typeMatches', () => {
  const cases: Array<[pattern: string, type: string, expected: boolean]> = [
    ['*', '', true],
    ['*', 'm.room.message', true],
    ['**', 'm.presence', true],
    ['m.room.*', 'm.room.message', true],
    ['m.room.*', 'm.room.', true],
    ['m.room.*', 'm.room', false],
    ['m.room.*', 'xm.room.message', false],
    ['*.message', 'm.room.message', true],
    ['*.message', 'm.room.messages', false],
    ['m.*.message', 'm.room.message', true],
    ['m.*.message', 'm.message', false],
    ['m.*e*e', 'm.reaction.remove', true],
    ['m.*e*e', 'm.reaction.removed', false],
    ['m.*e*e', 'm.room.message.type', true],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b*c', 'aXbYcZ', false],
    ['a*a', 'aaa', true],
    ['a*a', 'a', false],
    ['m.room.message', 'm.room.message', true],
    ['m.room.message', 'm.room.messagE', false],
    ['.*', '.y', true],
    ['.*', 'x.y', false],
    ['[*]', '[x]', true],
    ['(a|b)*', 'a', false],
    ['(a|b)*', '(a|b)c', true],
  ];
  it.each(cases)('%s against %s', (pattern, type, expected) => {
    expect(typeMatches(pattern, type)).toBe(expected);
  });

  it('agrees with the same glob as a regular expression on 20,000 random pairs', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const word = (alphabet: string) => Array.from({ length: next() % 7 }, () => alphabet[next() % alphabet.length]).join('');
    for (let i = 0; i < 20_000; i++) {
      const pattern = word('ab.*');
      const type = word('ab.');
      const re = new RegExp(
        `^${pattern
          .split('*')
          .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      );
      expect(typeMatches(pattern, type), `${pattern} against ${type}`).toBe(re.test(type));
    }
  });
});

describe('blocksAll', () => {
  const cases: Array<[EventSelector | undefined, boolean]> = [
    [undefined, false],
    [{}, false],
    [{ not_types: ['*'] }, true],
    [{ not_types: ['m.*', '*'] }, true],
    [{ not_types: ['m.*'] }, false],
    [{ types: [] }, true],
    [{ types: ['*'] }, false],
    [{ senders: [] }, true],
    [{ not_senders: [] }, false],
  ];
  it.each(cases)('%j', (selector, expected) => {
    expect(blocksAll(selector)).toBe(expected);
  });
});
