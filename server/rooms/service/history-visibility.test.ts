import { describe, expect, it } from 'vitest';
import { isEventVisible, parseHistoryVisibility, type EventVisibilityFacts } from './history-visibility.ts';

const base = { joinedLater: false } satisfies Partial<EventVisibilityFacts>;

describe('isEventVisible', () => {
  it.each<[string, EventVisibilityFacts, boolean]>([
    ['world_readable: anyone', { ...base, visibilityBefore: 'world_readable' }, true],
    ['joined at the event', { ...base, visibilityBefore: 'joined', membershipBefore: 'join' }, true],
    ['joined: not a member at the event', { ...base, visibilityBefore: 'joined', joinedLater: true }, false],
    ['joined: invited at the event', { ...base, visibilityBefore: 'joined', membershipBefore: 'invite', joinedLater: true }, false],
    ['shared: joined later and still there', { ...base, visibilityBefore: 'shared', joinedLater: true }, true],
    ['shared: joined later and left again', { ...base, visibilityBefore: 'shared', membershipBefore: 'leave', joinedLater: true }, true],
    ['shared: never joined', { ...base, visibilityBefore: 'shared' }, false],
    ['shared: sent after the user left for good', { ...base, visibilityBefore: 'shared', membershipBefore: 'leave' }, false],
    ['shared: invited but never joined', { ...base, visibilityBefore: 'shared', membershipBefore: 'invite' }, false],
    ['invited: invited at the event', { ...base, visibilityBefore: 'invited', membershipBefore: 'invite' }, true],
    ['invited: before the invite', { ...base, visibilityBefore: 'invited', joinedLater: true }, false],
    ['invited: knocking is not invited', { ...base, visibilityBefore: 'invited', membershipBefore: 'knock' }, false],
    ['banned at the event', { ...base, visibilityBefore: 'joined', membershipBefore: 'ban', joinedLater: true }, false],
    [
      'history_visibility joined -> world_readable, seen by a stranger',
      { ...base, visibilityBefore: 'joined', visibilityAfter: 'world_readable' },
      true,
    ],
    [
      'history_visibility world_readable -> joined, seen by a stranger',
      { ...base, visibilityBefore: 'world_readable', visibilityAfter: 'joined' },
      true,
    ],
    ['history_visibility joined -> shared, not by a stranger', { ...base, visibilityBefore: 'joined', visibilityAfter: 'shared' }, false],
    [
      'history_visibility joined -> shared, by a later joiner',
      { ...base, visibilityBefore: 'joined', visibilityAfter: 'shared', joinedLater: true },
      true,
    ],
    ['own membership event, even in a joined room', { ...base, visibilityBefore: 'joined', ownMembership: true }, true],
  ])('%s', (_name, facts, expected) => {
    expect(isEventVisible(facts)).toBe(expected);
  });
});

describe('parseHistoryVisibility', () => {
  it.each([
    ['world_readable', 'world_readable'],
    ['joined', 'joined'],
    ['invited', 'invited'],
    ['shared', 'shared'],
    ['something new', 'shared'],
    [undefined, 'shared'],
    [42, 'shared'],
  ])('%j -> %s', (input, expected) => {
    expect(parseHistoryVisibility(input)).toBe(expected);
  });
});
