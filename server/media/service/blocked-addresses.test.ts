import { describe, expect, it } from 'vitest';
import { isBlockedAddress } from './blocked-addresses.ts';

describe('isBlockedAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['224.0.0.1', true],
    ['::1', true],
    ['[::1]', true],
    ['::', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['fe80::1', true],
    ['fd12:3456::1', true],
    ['64:ff9b::7f00:1', true],
    ['2002:7f00:1::', true],
    ['localhost', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['93.184.215.14', false],
    ['2606:4700:4700::1111', false],
  ])('%s -> %s', (address, expected) => {
    expect(isBlockedAddress(address)).toBe(expected);
  });
});
