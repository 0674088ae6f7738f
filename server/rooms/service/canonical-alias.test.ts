import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { canonicalAliasesOf, parseRoomAlias } from './canonical-alias.ts';

describe('parseRoomAlias', () => {
  it.each([
    ['#room:example.org', { localpart: 'room', server: 'example.org' }],
    ['#a:localhost:8448', { localpart: 'a', server: 'localhost:8448' }],
    ['#sala-ñ:[::1]', { localpart: 'sala-ñ', server: '[::1]' }],
  ])('accepts %s', (alias, parsed) => {
    expect(parseRoomAlias(alias)).toEqual(parsed);
  });

  it.each([
    'room:example.org',
    '#room',
    '#:example.org',
    '#a b:example.org',
    '#a\u0000:example.org',
    '#a:bad_host!',
    `#${'x'.repeat(255)}:a.org`,
  ])('rejects %j', (alias) => {
    expect(parseRoomAlias(alias)).toBeUndefined();
  });
});

describe('canonicalAliasesOf', () => {
  it('lists alias then alt_aliases, treating null and empty alias as none', () => {
    expect(canonicalAliasesOf({ alias: '#a:hs', alt_aliases: ['#b:hs'] })).toEqual(['#a:hs', '#b:hs']);
    expect(canonicalAliasesOf({ alias: null, alt_aliases: [] })).toEqual([]);
    expect(canonicalAliasesOf({ alias: '' })).toEqual([]);
  });

  it('rejects malformed content with M_INVALID_PARAM', () => {
    const bad: JsonObject[] = [{ alias: 'a' }, { alias: 1 }, { alt_aliases: '#a:hs' }, { alt_aliases: [null] }];
    for (const content of bad) {
      expect(() => canonicalAliasesOf(content)).toThrow(MatrixError);
      try {
        canonicalAliasesOf(content);
      } catch (e) {
        expect((e as MatrixError).errcode).toBe('M_INVALID_PARAM');
      }
    }
  });
});
