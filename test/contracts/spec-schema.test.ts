import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectMatchesSchemaFile, expectMatchesSpec, hasSpecSchema, specDir } from '../support/spec-schema.ts';

describe('spec-schema', () => {
  it('finds the spec next to the repository', () => {
    expect(specDir({})).toMatch(/shared[/\\]matrix-spec$/);
    expect(specDir({ MATRIX_SPEC_DIR: '/elsewhere/spec' })).toBe('/elsewhere/spec');
  });

  it('accepts a body that matches the spec', () => {
    const ok = {
      user_id: '@a:example.org',
      access_token: 't',
      device_id: 'D',
      well_known: { 'm.homeserver': { base_url: 'https://hs.example.org/' } },
    };
    expect(() => expectMatchesSpec('login.yaml', '/login', 'POST', 200, ok)).not.toThrow();
    // The request path works as well as the template, and the .yaml suffix is optional.
    expect(() => expectMatchesSpec('login', '/_matrix/client/v3/login', 'post', 200, ok)).not.toThrow();
  });

  it('rejects a body with a missing required key, listing what is wrong', () => {
    expect(() => expectMatchesSpec('login.yaml', '/login', 'POST', 200, { user_id: '@a:example.org', device_id: 'D' })).toThrow(
      /must have required property 'access_token'/,
    );
  });

  it('rejects wrong types and bad Matrix formats', () => {
    let message = '';
    try {
      expectMatchesSpec('login.yaml', '/login', 'POST', 200, { user_id: 'not-an-mxid', access_token: 5, device_id: 'D' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('/access_token must be string');
    expect(message).toContain('/user_id must');
    expect(message).toContain('POST /login 200 (login.yaml)');
  });

  it('follows relative file refs (errors, the UIA response of /register)', () => {
    expect(() =>
      expectMatchesSpec('registration.yaml', '/register', 'POST', 401, { flows: [{ stages: ['m.login.dummy'] }], session: 's' }),
    ).not.toThrow();
    expect(() => expectMatchesSpec('registration.yaml', '/register', 'POST', 401, { flows: [{ stage: 'x' }] })).toThrow(/stages/);
    expect(() => expectMatchesSpec('registration.yaml', '/register', 'POST', 400, { error: 'no errcode' })).toThrow(/errcode/);
    // allOf + a nested relative ref (rate_limited.yaml -> error.yaml).
    expect(() => expectMatchesSpec('login.yaml', '/login', 'POST', 429, { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 'soon' })).toThrow(
      /retry_after_ms must be integer/,
    );
  });

  it('follows #/components refs and matches templated paths', () => {
    const caps = {
      capabilities: { 'm.change_password': { enabled: true }, 'm.room_versions': { default: '11', available: { '11': 'stable' } } },
    };
    expect(() => expectMatchesSpec('capabilities.yaml', '/capabilities', 'GET', 200, caps)).not.toThrow();
    expect(() =>
      expectMatchesSpec('capabilities.yaml', '/capabilities', 'GET', 200, { capabilities: { 'm.change_password': { enabled: 'yes' } } }),
    ).toThrow(/enabled must be boolean/);
    expect(() => expectMatchesSpec('filter.yaml', '/_matrix/client/v3/user/@a:b/filter', 'POST', 200, { filter_id: '1' })).not.toThrow();
    expect(() => expectMatchesSpec('filter.yaml', '/user/{userId}/filter', 'POST', 200, {})).toThrow(/filter_id/);
  });

  it('compiles schemas that refer to themselves, across files and through #/components', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spec-schema-'));
    try {
      // node.yaml -> #/components/schemas/children -> list.yaml -> node.yaml: a cycle through two files.
      writeFileSync(
        join(dir, 'node.yaml'),
        'type: object\nrequired: [name]\nproperties:\n  name: { type: string }\n  children: { $ref: "#/components/schemas/children" }\n' +
          'components:\n  schemas:\n    children: { $ref: "list.yaml" }\n',
      );
      writeFileSync(join(dir, 'list.yaml'), 'type: array\nitems: { $ref: "node.yaml" }\n');
      const tree = { name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] };
      expect(() => expectMatchesSchemaFile(join(dir, 'node.yaml'), tree)).not.toThrow();
      expect(() => expectMatchesSchemaFile(join(dir, 'node.yaml'), { name: 'a', children: [{ children: [] }] })).toThrow(
        /\/children\/0 must have required property 'name'/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => expectMatchesSchemaFile('definitions/push_ruleset.yaml', { content: [], override: [] })).not.toThrow();
    expect(() => expectMatchesSchemaFile('definitions/errors/error.yaml', {})).toThrow(/errcode/);
  });

  it('says so when the spec documents no such response', () => {
    expect(hasSpecSchema('login.yaml', '/login', 'POST', 200)).toBe(true);
    expect(hasSpecSchema('login.yaml', '/login', 'POST', 418)).toBe(false);
    expect(() => expectMatchesSpec('login.yaml', '/login', 'POST', 418, {})).toThrow(/documents no 418 response/);
    expect(() => expectMatchesSpec('login.yaml', '/nope', 'GET', 200, {})).toThrow(/has no path \/nope/);
  });
});
