import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { CS, enc, ok } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  hs,
  users: [alice, bob],
} = withHomeserver({ users: ['alice', 'bob'] });

const PR = `${CS}/pushrules`;
const rulePath = (kind: string, ruleId: string, rest = '') => `${PR}/global/${kind}/${enc(ruleId)}${rest}`;
const userIds = (rules: Array<{ rule_id: string; default: boolean }>) => rules.filter((r) => !r.default).map((r) => r.rule_id);

describe('GET /pushrules/', () => {
  it('serves the default ruleset with the trailing slash (matrix-js-sdk) and without', async () => {
    const slash = await alice.client.get(`${PR}/`);
    expect(slash.status, JSON.stringify(slash.body)).toBe(200);
    expectMatchesSpec('pushrules.yaml', '/pushrules/', 'GET', 200, slash.body);
    const g = slash.body.global;
    expect(Object.keys(g).sort()).toEqual(['content', 'override', 'room', 'sender', 'underride']);
    expect(g.override[0]).toEqual({ rule_id: '.m.rule.master', default: true, enabled: false, conditions: [], actions: [] });
    expect(g.override.map((r: { rule_id: string }) => r.rule_id)).toContain('.m.rule.is_user_mention');
    expect(g.underride.map((r: { rule_id: string }) => r.rule_id)).toEqual([
      '.m.rule.call',
      '.m.rule.encrypted_room_one_to_one',
      '.m.rule.room_one_to_one',
      '.m.rule.message',
      '.m.rule.encrypted',
    ]);
    const invite = g.override.find((r: { rule_id: string }) => r.rule_id === '.m.rule.invite_for_me');
    expect(invite.conditions).toContainEqual({ kind: 'event_match', key: 'state_key', pattern: alice.userId });
    expect(g.content[0]).toMatchObject({ rule_id: '.m.rule.contains_user_name', pattern: 'alice' });

    expect(ok(await alice.client.get(PR))).toEqual(slash.body);
  });

  it('serves the global ruleset at /pushrules/global/ and /pushrules/global', async () => {
    const all = ok(await alice.client.get(`${PR}/`));
    const global = await alice.client.get(`${PR}/global/`);
    expect(ok(global)).toEqual(all.global);
    expectMatchesSpec('pushrules.yaml', '/pushrules/global/', 'GET', 200, global.body);
    expect(ok(await alice.client.get(`${PR}/global`))).toEqual(all.global);
  });

  it('needs an access token, and knows only the global scope', async () => {
    expectMatrixError(await alice.client.get(`${PR}/`, { token: null }), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await alice.client.get(`${PR}/device/`), 400, 'M_INVALID_PARAM');
  });
});

describe('user-defined rules', () => {
  it('creates, reads, updates and deletes a rule of each kind', async () => {
    const override = {
      conditions: [{ kind: 'event_match', key: 'content.body', pattern: 'beer' }],
      actions: ['notify', { set_tweak: 'sound', value: 'beer.wav' }],
    };
    ok(await alice.client.put(rulePath('override', 'beer'), override));
    ok(await alice.client.put(rulePath('content', 'cake'), { pattern: 'cake*lie', actions: ['notify'] }));
    ok(await alice.client.put(rulePath('room', '!quiet:localhost'), { actions: [] }));
    ok(await alice.client.put(rulePath('sender', '@spam:localhost'), { actions: ['dont_notify'] }));
    ok(await alice.client.put(rulePath('underride', 'late'), { actions: ['notify'] }));

    const beer = ok(await alice.client.get(rulePath('override', 'beer')));
    expectMatchesSpec('pushrules.yaml', '/pushrules/global/{kind}/{ruleId}', 'GET', 200, beer);
    expect(beer).toEqual({ rule_id: 'beer', default: false, enabled: true, ...override });
    expect(ok(await alice.client.get(rulePath('content', 'cake')))).toEqual({
      rule_id: 'cake',
      default: false,
      enabled: true,
      pattern: 'cake*lie',
      actions: ['notify'],
    });
    // The historical dont_notify action is kept as sent (and ignored when evaluating).
    expect(ok(await alice.client.get(rulePath('sender', '@spam:localhost')))).toEqual({
      rule_id: '@spam:localhost',
      default: false,
      enabled: true,
      actions: ['dont_notify'],
    });
    expect(ok(await alice.client.get(rulePath('underride', 'late')))).toMatchObject({ conditions: [], actions: ['notify'] });

    const g = ok(await alice.client.get(`${PR}/global/`));
    expect(g.override.map((r: { rule_id: string }) => r.rule_id).slice(0, 2)).toEqual(['.m.rule.master', 'beer']);
    expect(userIds(g.room)).toEqual(['!quiet:localhost']);
    expect(g.underride[0].rule_id).toBe('late');

    ok(await alice.client.put(rulePath('override', 'beer'), { conditions: [], actions: [] }));
    expect(ok(await alice.client.get(rulePath('override', 'beer')))).toMatchObject({ conditions: [], actions: [] });

    for (const [kind, id] of [
      ['override', 'beer'],
      ['content', 'cake'],
      ['room', '!quiet:localhost'],
      ['sender', '@spam:localhost'],
      ['underride', 'late'],
    ] as const) {
      expect(ok(await alice.client.delete(rulePath(kind, id)))).toEqual({});
      expectMatrixError(await alice.client.get(rulePath(kind, id)), 404, 'M_NOT_FOUND');
    }
  });

  it('places rules with before and after', async () => {
    for (const id of ['c', 'b', 'a']) ok(await alice.client.put(rulePath('override', id), { conditions: [], actions: [] }));
    ok(await alice.client.put(`${rulePath('override', 'd')}?after=c`, { conditions: [], actions: [] }));
    ok(await alice.client.put(`${rulePath('override', 'first')}?before=a`, { conditions: [], actions: [] }));
    ok(await alice.client.put(`${rulePath('override', 'c')}?before=b`, { conditions: [], actions: [] }));
    expect(userIds(ok(await alice.client.get(`${PR}/global/`)).override)).toEqual(['first', 'a', 'c', 'b', 'd']);
    expectMatrixError(await alice.client.put(`${rulePath('override', 'x')}?before=nope`, { actions: [] }), 400, 'M_UNKNOWN');
    expectMatrixError(await alice.client.put(`${rulePath('override', 'x')}?after=.m.rule.master`, { actions: [] }), 400, 'M_INVALID_PARAM');
    for (const id of ['first', 'a', 'b', 'c', 'd']) ok(await alice.client.delete(rulePath('override', id)));
  });

  it('keeps one user’s rules from another', async () => {
    ok(await alice.client.put(rulePath('override', 'private'), { conditions: [], actions: [] }));
    expectMatrixError(await bob.client.get(rulePath('override', 'private')), 404, 'M_NOT_FOUND');
    expect(userIds(ok(await bob.client.get(`${PR}/global/`)).override)).toEqual([]);
    ok(await alice.client.delete(rulePath('override', 'private')));
  });

  it.each([
    ['a rule id starting with a dot', 'override', '.mine', { actions: [] }, 'M_INVALID_PARAM'],
    ['a rule id with a backslash', 'override', 'a\\b', { actions: [] }, 'M_INVALID_PARAM'],
    ['a content rule without pattern', 'content', 'nopattern', { actions: ['notify'] }, 'M_MISSING_PARAM'],
    ['missing actions', 'override', 'noactions', { conditions: [] }, 'M_MISSING_PARAM'],
    ['actions that are not a list', 'override', 'x', { actions: 'notify' }, 'M_BAD_JSON'],
    ['an unknown action', 'override', 'x', { actions: ['explode'] }, 'M_INVALID_PARAM'],
    ['a condition without kind', 'override', 'x', { actions: [], conditions: [{ key: 'type' }] }, 'M_MISSING_PARAM'],
  ])('rejects %s', async (_name, kind, id, body, errcode) => {
    expectMatrixError(await alice.client.put(rulePath(kind, id), body), 400, errcode);
  });

  it('rejects an unknown scope or kind on every rule endpoint', async () => {
    expectMatrixError(await alice.client.get(`${PR}/device/override/x`), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.get(rulePath('bogus', 'x', '/enabled')), 404, 'M_UNRECOGNIZED');
  });
});

describe('server-default rules', () => {
  it('cannot be deleted, and unknown ones are not found', async () => {
    expectMatrixError(await alice.client.delete(rulePath('override', '.m.rule.master')), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.delete(rulePath('override', '.m.rule.nonexistent')), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.get(rulePath('underride', '.m.rule.master')), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.put(rulePath('override', '.m.rule.master'), { actions: [] }), 400, 'M_INVALID_PARAM');
  });

  it('are switched on and off and given new actions', async () => {
    const enabled = ok(await alice.client.get(rulePath('override', '.m.rule.master', '/enabled')));
    expect(enabled).toEqual({ enabled: false });
    expectMatchesSpec('pushrules.yaml', '/pushrules/global/{kind}/{ruleId}/enabled', 'GET', 200, enabled);
    ok(await alice.client.put(rulePath('override', '.m.rule.master', '/enabled'), { enabled: true }));
    expect(ok(await alice.client.get(rulePath('override', '.m.rule.master', '/enabled')))).toEqual({ enabled: true });
    expect(ok(await alice.client.get(`${PR}/global/`)).override[0]).toMatchObject({
      rule_id: '.m.rule.master',
      enabled: true,
      default: true,
    });

    const actions = ok(await alice.client.get(rulePath('underride', '.m.rule.message', '/actions')));
    expect(actions).toEqual({ actions: ['notify'] });
    expectMatchesSpec('pushrules.yaml', '/pushrules/global/{kind}/{ruleId}/actions', 'GET', 200, actions);
    ok(
      await alice.client.put(rulePath('underride', '.m.rule.message', '/actions'), {
        actions: ['notify', { set_tweak: 'sound', value: 'default' }],
      }),
    );
    expect(ok(await alice.client.get(rulePath('underride', '.m.rule.message')))).toMatchObject({
      default: true,
      enabled: true,
      actions: ['notify', { set_tweak: 'sound', value: 'default' }],
    });
    ok(await alice.client.put(rulePath('override', '.m.rule.master', '/enabled'), { enabled: false }));
    // Bob's defaults are untouched.
    expect(ok(await bob.client.get(rulePath('underride', '.m.rule.message', '/actions')))).toEqual({ actions: ['notify'] });
  });

  it('switch user rules too, and keep the switch when the rule is updated', async () => {
    ok(await alice.client.put(rulePath('room', '!r:localhost'), { actions: [] }));
    ok(await alice.client.put(rulePath('room', '!r:localhost', '/enabled'), { enabled: false }));
    ok(await alice.client.put(rulePath('room', '!r:localhost'), { actions: ['notify'] }));
    expect(ok(await alice.client.get(rulePath('room', '!r:localhost')))).toMatchObject({ enabled: false, actions: ['notify'] });
    ok(await alice.client.delete(rulePath('room', '!r:localhost')));
  });

  it.each([
    ['enabled', { enabled: 'yes' }, 'M_BAD_JSON'],
    ['enabled', {}, 'M_MISSING_PARAM'],
    ['actions', { actions: [42] }, 'M_BAD_JSON'],
    ['actions', {}, 'M_MISSING_PARAM'],
  ])('rejects a bad /%s body %j', async (what, body, errcode) => {
    expectMatrixError(await alice.client.put(rulePath('override', '.m.rule.master', `/${what}`), body), 400, errcode);
  });

  it('answers 404 for /enabled and /actions of an unknown rule', async () => {
    for (const what of ['enabled', 'actions']) {
      expectMatrixError(await alice.client.get(rulePath('override', 'nope', `/${what}`)), 404, 'M_NOT_FOUND');
    }
    expectMatrixError(await alice.client.put(rulePath('override', 'nope', '/enabled'), { enabled: true }), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.put(rulePath('override', 'nope', '/actions'), { actions: [] }), 404, 'M_NOT_FOUND');
  });

  it('keeps changes across a restart', async () => {
    ok(await bob.client.put(rulePath('override', '.m.rule.suppress_notices', '/enabled'), { enabled: false }));
    ok(await bob.client.put(rulePath('sender', '@loud:localhost'), { actions: [] }));
    await hs.restart();
    expect(ok(await bob.client.get(rulePath('override', '.m.rule.suppress_notices', '/enabled')))).toEqual({ enabled: false });
    expect(ok(await bob.client.get(rulePath('sender', '@loud:localhost'))).rule_id).toBe('@loud:localhost');
  });
});
