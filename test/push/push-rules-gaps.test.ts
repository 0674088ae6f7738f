import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { CS, enc, ok } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** Push rule details found by Complement: legacy actions round-trip, unknown kinds are unknown endpoints. */

const {
  users: [alice],
} = withHomeserver({ users: ['prg_alice'] });

const rulePath = (kind: string, ruleId: string, rest = '') => `${CS}/pushrules/global/${kind}/${enc(ruleId)}${rest}`;

describe('actions', () => {
  it.each([
    ['dont_notify', ['dont_notify']],
    ['coalesce', ['notify', 'coalesce']],
    ['a tweak with extra keys', ['notify', { set_tweak: 'sound', value: 'ding.wav' }, { set_tweak: 'highlight', value: false }]],
  ])('%s survives PUT then GET unchanged', async (_name, actions) => {
    const id = `rt-${enc(_name).replace(/%/g, '')}`;
    ok(await alice.client.put(rulePath('override', id), { conditions: [], actions }));
    const rule = ok(await alice.client.get(rulePath('override', id)));
    expectMatchesSpec('pushrules.yaml', '/pushrules/global/{kind}/{ruleId}', 'GET', 200, rule);
    expect(rule.actions).toEqual(actions);
    expect(ok(await alice.client.get(rulePath('override', id, '/actions')))).toEqual({ actions });
  });

  it('PUT /actions keeps dont_notify too, also on a server-default rule', async () => {
    ok(await alice.client.put(rulePath('underride', '.m.rule.message', '/actions'), { actions: ['dont_notify'] }));
    expect(ok(await alice.client.get(rulePath('underride', '.m.rule.message', '/actions')))).toEqual({ actions: ['dont_notify'] });
    const g = ok(await alice.client.get(`${CS}/pushrules/`));
    const message = g.global.underride.find((r: { rule_id: string }) => r.rule_id === '.m.rule.message');
    expect(message.actions).toEqual(['dont_notify']);
  });
});

describe('an unknown kind', () => {
  it('is an unrecognised endpoint for GET, PUT and DELETE', async () => {
    expectMatrixError(await alice.client.get(rulePath('foo', 'x')), 404, 'M_UNRECOGNIZED');
    expectMatrixError(await alice.client.put(rulePath('foo', 'x'), { actions: ['notify'] }), 404, 'M_UNRECOGNIZED');
    expectMatrixError(await alice.client.delete(rulePath('foo', 'x')), 404, 'M_UNRECOGNIZED');
    expectMatrixError(await alice.client.put(rulePath('foo', 'x', '/enabled'), { enabled: true }), 404, 'M_UNRECOGNIZED');
  });
});
