import { describe, expect, it } from 'vitest';
import { matchesFilter, type EventSelector } from './event-filter.ts';

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
