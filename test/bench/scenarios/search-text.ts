/**
 * Message text for the search scenario: words drawn from a fixed vocabulary with Zipf
 * frequencies (the word of rank r is used in proportion to 1/r, as words in real text
 * are), so a search finds what it would in a real room: a handful of very common words
 * (the stop words a full-text index leaves out), content words that are in several
 * percent of messages, and a long tail of rare ones. Deterministic for a seed, and cheap
 * enough for a load worker to make one per request.
 *
 * The two searched words are placed at fixed ranks: COMMON in about 6 % of messages,
 * RARE in about 0.5 %. No other word of the vocabulary starts with either, so a server
 * that matches prefixes (Synapse's `word:*`) or stems finds exactly the messages holding
 * the word, and the seeders can count them.
 */

import { prng } from '../../support/auth-dags.ts';

/** The seeded PRNG the messages are drawn with (shared with the auth-DAG tests). */
export { prng };

/** The most frequent words of English chat, most of them stop words (rank 1 first). */
const FUNCTION_WORDS = 'the to and a i you it is that of in for on this we be with have are'.split(' ');

/** Content words, most frequent first (ranks 21 onwards, the searched words spliced in). */
const CONTENT_WORDS = `
  just not but so can do will if what at all was me my get like know think now about one there
  out up they or time need new good today work make see how want going look back people thing
  check week still day yes really some way fix also right then call team well code change next
  sure got only tomorrow user last because take two problem help maybe much issue data update
  first let around test start here other morning could should build deploy page app error log
  branch merge review plan meeting note doc question answer idea email chat message room office
  lunch coffee home weekend friday monday client customer sales price budget report number chart
  design color font image video audio link file folder drive cloud disk memory network cable router
  laptop phone screen keyboard mouse printer ticket board sprint story task bug patch version tag
  commit push pull fetch clone script shell terminal query table index cache queue worker thread
  process signal timer clock alarm calendar schedule holiday travel flight train hotel ticketing
  garden river mountain forest ocean island desert valley meadow canyon glacier harbor lighthouse
  violin guitar piano trumpet drum flute cello harp banjo accordion saxophone clarinet oboe tuba
  apple banana cherry grape lemon mango melon orange peach pear plum berry walnut almond pepper
  tomato potato onion garlic carrot celery lettuce spinach cabbage radish turnip parsnip leek
  falcon eagle owl sparrow robin heron crane swan goose duck pigeon parrot raven magpie finch
`
  .trim()
  .split(/\s+/);

/** Searched in every run: common and rare, each its own stem, no other word starting with it. */
export const COMMON_WORD = 'server';
export const RARE_WORD = 'kumquat';
const COMMON_RANK = 18;
const RARE_RANK = 220;
/** The vocabulary's size: real words first, then made-up ones for the long tail. */
const VOCABULARY_SIZE = 4000;

const SYLLABLES =
  'ba be bi bo bu da de di do du fa fe fi fo fu ga ge gi go gu ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu'.split(
    ' ',
  );

function buildVocabulary(): string[] {
  const words = [...FUNCTION_WORDS, ...CONTENT_WORDS];
  const made = new Set(words);
  // Made-up words of three syllables (from a fixed order), for the rare tail.
  for (let i = 0; words.length < VOCABULARY_SIZE - 2; i++) {
    const n = SYLLABLES.length;
    const w = `${SYLLABLES[i % n]}${SYLLABLES[Math.floor(i / n) % n]}${SYLLABLES[Math.floor(i / (n * n)) % n]}`;
    if (!made.has(w)) {
      made.add(w);
      words.push(w);
    }
  }
  words.splice(COMMON_RANK - 1, 0, COMMON_WORD);
  words.splice(RARE_RANK - 1, 0, RARE_WORD);
  for (const term of [COMMON_WORD, RARE_WORD]) {
    const clash = words.find((w) => w !== term && w.startsWith(term));
    if (clash) throw new Error(`search vocabulary: '${clash}' starts with the searched word '${term}'`);
  }
  if (new Set(words).size !== words.length) throw new Error('search vocabulary: a word appears twice');
  return words;
}

export const VOCABULARY: readonly string[] = buildVocabulary();

/** Cumulative Zipf weights (s = 1) over the vocabulary, for sampling by binary search. */
const CUMULATIVE: Float64Array = (() => {
  const c = new Float64Array(VOCABULARY.length);
  let sum = 0;
  for (let r = 1; r <= VOCABULARY.length; r++) c[r - 1] = sum += 1 / r;
  for (let i = 0; i < c.length; i++) c[i]! /= sum;
  return c;
})();

function sampleWord(rnd: () => number): string {
  const x = rnd();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return VOCABULARY[lo]!;
}

/** One chat message of 3 to 15 words: capitalised, ending in a full stop. */
export function makeMessage(rnd: () => number): string {
  const n = 3 + Math.floor(rnd() * 13);
  const words = Array.from({ length: n }, () => sampleWord(rnd));
  const text = words.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

/** The message's words, lower-cased (how the seeders count which messages hold a word). */
export const wordsOf = (body: string): string[] =>
  body
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);
