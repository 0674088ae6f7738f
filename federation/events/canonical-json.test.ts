import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, canonicalJsonBytes, compareCodePoints } from './canonical-json.ts';

describe('canonicalJson: spec appendix examples', () => {
  // Inputs are given as the JSON text from the spec so that parsing quirks
  // (e.g. "\u65E5", -0, 1e10) are exercised exactly as written there.
  const cases: Array<[name: string, input: string, expected: string]> = [
    ['empty object', '{}', '{}'],
    ['two keys', '{\n  "one": 1,\n  "two": "Two"\n}', '{"one":1,"two":"Two"}'],
    ['reordered keys', '{\n  "b": "2",\n  "a": "1"\n}', '{"a":"1","b":"2"}'],
    ['compact reordered keys', '{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      'nested',
      `{
        "auth": {
          "success": true,
          "mxid": "@john.doe:example.com",
          "profile": {
            "display_name": "John Doe",
            "three_pids": [
              { "medium": "email", "address": "john.doe@example.org" },
              { "medium": "msisdn", "address": "123456789" }
            ]
          }
        }
      }`,
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['non-ASCII value', '{"a": "日本語"}', '{"a":"日本語"}'],
    ['non-ASCII keys sorted by code point', '{"本": 2, "日": 1}', '{"日":1,"本":2}'],
    ['unicode escape decoded', '{"a": "\\u65E5"}', '{"a":"日"}'],
    ['null', '{"a": null}', '{"a":null}'],
    ['-0 and exponent integers', '{"a": -0, "b": 1e10}', '{"a":0,"b":10000000000}'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });
});

describe('canonicalJson: further encoding rules', () => {
  const cases: Array<[name: string, input: unknown, expected: string]> = [
    ['top-level scalars', [true, false, null, 0, -1, 'x'], '[true,false,null,0,-1,"x"]'],
    ['max safe integer', 2 ** 53 - 1, '9007199254740991'],
    ['min safe integer', -(2 ** 53) + 1, '-9007199254740991'],
    ['short escapes', '\b\t\n\f\r"\\', '"\\b\\t\\n\\f\\r\\"\\\\"'],
    ['other control chars as lowercase \\u00XX', '\u0000\u001f\u000b', '"\\u0000\\u001f\\u000b"'],
    ['slash, DEL, U+2028 unescaped', '/\u007f\u2028', '"/\u007f\u2028"'],
    ['astral characters kept raw', '😀', '"😀"'],
    // U+1F600 (surrogates D83D DE00) must sort after U+FF01 by code point,
    // although its UTF-16 code units sort before.
    ['astral keys after high BMP keys', { '😀': 1, '！': 2, a: 3 }, '{"a":3,"！":2,"😀":1}'],
    ['prefix keys sort first', { ab: 1, a: 2, '': 3 }, '{"":3,"a":2,"ab":1}'],
    ['undefined members omitted', { a: undefined, b: 1 }, '{"b":1}'],
    ['null-prototype object', Object.assign(Object.create(null) as object, { z: 1, y: 2 }), '{"y":2,"z":1}'],
    ['__proto__ as an own key', JSON.parse('{"__proto__": 1, "a": 2}'), '{"__proto__":1,"a":2}'],
    ['nested arrays keep order', { a: [[3, 1], [2]] }, '{"a":[[3,1],[2]]}'],
    ['shared (non-cyclic) references allowed', ((x: object) => [x, x])({ k: 1 }), '[{"k":1},{"k":1}]'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(canonicalJson(input)).toBe(expected);
  });
});

describe('canonicalJson: rejected values', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  const cases: Array<[name: string, input: unknown, path: string]> = [
    ['float', { a: 1.5 }, 'a'],
    ['NaN', [Number.NaN], '[0]'],
    ['Infinity', { a: { b: Number.POSITIVE_INFINITY } }, 'a.b'],
    ['too large', 2 ** 53, ''],
    ['too small', -(2 ** 53), ''],
    ['undefined at root', undefined, ''],
    ['undefined in array', [1, undefined], '[1]'],
    // eslint-disable-next-line no-sparse-arrays
    ['sparse array hole', [1, , 3], '[1]'],
    ['bigint', { n: 1n }, 'n'],
    ['function', { f: () => 1 }, 'f'],
    ['Date', { d: new Date(0) }, 'd'],
    ['Map', new Map(), ''],
    ['lone high surrogate in value', { a: 'x\ud800' }, 'a'],
    ['lone low surrogate in key', { '\udc00': 1 }, '\udc00'],
    ['cycle', cyclic, 'self'],
  ];
  it.each(cases)('%s', (_name, input, path) => {
    let caught: unknown;
    try {
      canonicalJson(input);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CanonicalJsonError);
    expect((caught as CanonicalJsonError).path).toBe(path);
  });
});

describe('canonicalJsonBytes', () => {
  it('encodes as UTF-8', () => {
    expect(Array.from(canonicalJsonBytes({ a: '日' }))).toEqual([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe6, 0x97, 0xa5, 0x22, 0x7d]);
  });
});

describe('compareCodePoints', () => {
  const cases: Array<[a: string, b: string, sign: number]> = [
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0],
    ['a', 'ab', -1],
    ['\uffff', '\u{10000}', -1],
    ['\u{10000}', '\ue000', 1],
    ['\u{10000}', '\u{10001}', -1],
  ];
  it.each(cases)('%j vs %j', (a, b, sign) => {
    expect(Math.sign(compareCodePoints(a, b))).toBe(sign);
  });
});
