import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { turnCredentials, type TurnConfig } from './turn-credentials.ts';

const base: TurnConfig = {
  uris: ['turn:turn.example.org:3478?transport=udp'],
  shared_secret: null,
  username: null,
  password: null,
  user_lifetime_ms: 86_400_000,
};
const NOW = 1_700_000_000_000;

describe('turnCredentials', () => {
  it('derives time-limited credentials from a shared secret (TURN REST API)', () => {
    const creds = turnCredentials({ ...base, shared_secret: 's3cret' }, '@alice:example.org', NOW)!;
    expect(creds.username).toBe(`${NOW / 1000 + 86_400}:@alice:example.org`);
    expect(creds.password).toBe(createHmac('sha1', 's3cret').update(creds.username).digest('base64'));
    expect(creds).toMatchObject({ uris: base.uris, ttl: 86_400 });
  });

  it('hands out static credentials when configured so', () => {
    expect(turnCredentials({ ...base, username: 'u', password: 'p', user_lifetime_ms: 3_600_000 }, '@a:b', NOW)).toEqual({
      username: 'u',
      password: 'p',
      uris: base.uris,
      ttl: 3600,
    });
  });

  it.each([
    ['no uris', { ...base, uris: [], shared_secret: 's' }],
    ['uris but no credentials', base],
    ['a username without password', { ...base, username: 'u' }],
  ])('gives nothing with %s', (_name, config) => {
    expect(turnCredentials(config, '@a:b', NOW)).toBeUndefined();
  });
});
