import { describe, expect, it } from 'vitest';
import { domainOf, isValidServerName, isValidUserId } from './identifiers.ts';

describe('isValidServerName', () => {
  it.each([
    ['matrix.org', true],
    ['matrix.org:8888', true],
    ['1.2.3.4', true],
    ['1.2.3.4:1234', true],
    ['[1234:5678::abcd]', true],
    ['[1234:5678::abcd]:5678', true],
    ['localhost', true],
    ['', false],
    ['matrix.org:', false],
    ['matrix.org:123456', false],
    ['bad_host', false],
    ['[1234:5678::abcd', false],
    ['[zz::1]', false],
    ['256.1.1.1', false],
  ])('%s -> %s', (name, valid) => {
    expect(isValidServerName(name)).toBe(valid);
  });
});

describe('isValidUserId', () => {
  it.each([
    ['@alice:example.org', true],
    ['@a.b=c_d/e+f-g:example.org:8448', true],
    ['@Historical User!:example.org', true], // historical localparts must be accepted
    ['@:example.org', true], // empty historical localpart
    ['@bob:[::1]:8448', true],
    ['alice:example.org', false],
    ['@alice', false],
    ['@alice:', false],
    ['@al\u0000ice:example.org', false],
    ['@al\uD800ice:example.org', false],
    [`@${'a'.repeat(250)}:example.org`, false], // over 255 bytes
  ])('%s -> %s', (id, valid) => {
    expect(isValidUserId(id)).toBe(valid);
  });
});

describe('domainOf', () => {
  it.each([
    ['@alice:example.org', 'example.org'],
    ['@alice:example.org:8448', 'example.org:8448'],
    ['!room:[::1]:80', '[::1]:80'],
    ['!opaqueV12RoomId', undefined],
  ])('%s -> %s', (id, domain) => {
    expect(domainOf(id)).toBe(domain);
  });
});
