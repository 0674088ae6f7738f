import { describe, expect, it } from 'vitest';
import { replacesStored } from './replace.ts';

const key = (is_verified: boolean, first_message_index: number, forwarded_count: number) => ({
  is_verified,
  first_message_index,
  forwarded_count,
});

describe('replacesStored', () => {
  it.each([
    ['verified over unverified, though it starts later and was forwarded more', key(false, 0, 0), key(true, 9, 9), true],
    ['not unverified over verified, though it starts earlier', key(true, 5, 5), key(false, 0, 0), false],
    ['an earlier first message index (both unverified)', key(false, 5, 0), key(false, 4, 9), true],
    ['an earlier first message index (both verified)', key(true, 5, 0), key(true, 4, 9), true],
    ['not a later first message index, though forwarded less', key(false, 4, 9), key(false, 5, 0), false],
    ['a lower forwarded count at the same index', key(false, 3, 2), key(false, 3, 1), true],
    ['not a higher forwarded count at the same index', key(false, 3, 1), key(false, 3, 2), false],
    ['not an equal key', key(true, 3, 1), key(true, 3, 1), false],
  ])('%s', (_name, stored, uploaded, expected) => {
    expect(replacesStored(stored, uploaded)).toBe(expected);
  });
});
