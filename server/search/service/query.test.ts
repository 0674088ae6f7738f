import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_TERMS, toTsQuery } from './query.ts';

describe('toTsQuery', () => {
  it.each([
    ['one word, as a prefix', 'federation', 'federation:*'],
    ['words are all required', 'martians and men', 'martians:* & and:* & men:*'],
    ['case and spacing are kept for PostgreSQL to normalise', '  Hello   WORLD ', 'Hello:* & WORLD:*'],
    ['a quoted phrase: adjacent words, no prefix', '"big brown fox"', '(big <-> brown <-> fox)'],
    ['an unterminated quote runs to the end', 'say "hello there', 'say:* & (hello <-> there)'],
    ['a minus excludes a word', 'fox -brown', 'fox:* & !brown:*'],
    ['a minus excludes a phrase', 'fox -"very brown"', 'fox:* & !(very <-> brown)'],
    ['or takes either', 'cats or dogs', '(cats:* | dogs:*)'],
    ['OR in capitals too', 'cats OR dogs', '(cats:* | dogs:*)'],
    ['or binds before the implied and', 'pets cats or dogs', 'pets:* & (cats:* | dogs:*)'],
    ['a chain of ors is one group', 'a or b or c d', '(a:* | b:* | c:*) & d:*'],
    ['a leading or is a word', 'or else', 'or:* & else:*'],
    ['a trailing or is dropped', 'cats or', 'cats:*'],
    ['punctuation inside a word makes a phrase of its parts', "don't", '(don <-> t)'],
    ['underscores split words as PostgreSQL does', 'hello_world', '(hello <-> world)'],
    ['letters of any script', 'Grüße 東京 Привет', 'Grüße:* & 東京:* & Привет:*'],
    ['digits', 'room 42', 'room:* & 42:*'],
    ["tsquery's own syntax is not the user's", "a&b | c:* !d 'e' (f)", '(a <-> b) & c:* & d:* & e:* & f:*'],
  ])('%s', (_name, term, expected) => {
    expect(toTsQuery(term)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['only punctuation', '!!! ... ???'],
    ['only exclusions', '-spam -"junk mail"'],
    ['empty quotes', '""'],
  ])('nothing to search: %s', (_name, term) => {
    expect(toTsQuery(term)).toBeUndefined();
  });

  it(`keeps at most ${MAX_TERMS} terms`, () => {
    const words = Array.from({ length: MAX_TERMS + 10 }, (_, i) => `w${i}`);
    expect(toTsQuery(words.join(' '))!.split(' & ')).toHaveLength(MAX_TERMS);
  });
});

describe('toTsQuery against PostgreSQL', () => {
  const db = new PGlite();
  afterAll(() => db.close());

  it('every query it makes is valid tsquery text, whatever was typed', async () => {
    const hostile = [
      "'; drop table x; --",
      '\\\\ \\" :* <-> <1> & | ! ( ) ))) (((',
      'a:*:*:* b:A c:B',
      '"" "a" -"" - -- ---x',
      'or or or',
      '\u0000 \u0001 zero',
      '😀 emoji ✨ sparkles',
      'x'.repeat(5000),
    ];
    for (const term of hostile) {
      const q = toTsQuery(term);
      if (q === undefined) continue;
      await expect(db.query(`select to_tsquery('english', $1)`, [q])).resolves.toBeDefined();
    }
  });

  it('finds by prefix, phrase, exclusion and or, with English stemming', async () => {
    const doc = `to_tsvector('english', 'The federated servers were jumping over lazy dogs')`;
    const matches = async (term: string) =>
      (await db.query<{ m: boolean }>(`select ${doc} @@ to_tsquery('english', $1) as m`, [toTsQuery(term)!])).rows[0]!.m;
    expect(await matches('feder')).toBe(true);
    expect(await matches('jumped')).toBe(true);
    expect(await matches('"lazy dogs"')).toBe(true);
    expect(await matches('"dogs lazy"')).toBe(false);
    expect(await matches('dogs -lazy')).toBe(false);
    expect(await matches('cats or dogs')).toBe(true);
    expect(await matches('cats dogs')).toBe(false);
  });
});
