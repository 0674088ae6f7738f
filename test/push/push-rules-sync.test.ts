import { describe, expect, it } from 'vitest';
import { CS, ok, syncOk } from '../support/rooms.ts';
import { accountData, syncToken, syncUntil } from '../support/sync.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  users: [alice, bob],
} = withHomeserver({ users: ['alice', 'bob'] });

const masterEnabled = `${CS}/pushrules/global/override/.m.rule.master/enabled`;

describe('m.push_rules in /sync', () => {
  it('is in every initial sync, as the whole effective ruleset', async () => {
    const initial = await syncOk(alice, { set_presence: 'offline' });
    const event = accountData(initial, 'm.push_rules');
    expect(event?.content).toEqual(ok(await alice.client.get(`${CS}/pushrules/`)));
    expect(event?.content.global.override[0].rule_id).toBe('.m.rule.master');
  });

  it('is not repeated by an incremental sync when nothing changed', async () => {
    const since = await syncToken(alice);
    ok(await alice.client.put(`${CS}/user/${encodeURIComponent(alice.userId)}/account_data/m.something`, { a: 1 }));
    const { body } = await syncUntil(alice, since, (b) => accountData(b, 'm.something'));
    expect(accountData(body, 'm.push_rules')).toBeUndefined();
  });

  it('comes again after a change, and wakes a waiting /sync of its owner only', async () => {
    const since = await syncToken(alice);
    const bobSince = await syncToken(bob);
    const waiting = syncUntil(alice, since, (b) => accountData(b, 'm.push_rules'), { params: { timeout: 10_000 } });
    await new Promise((r) => setTimeout(r, 100));
    ok(await alice.client.put(masterEnabled, { enabled: true }));
    const { value } = await waiting;
    expect(value.content.global.override[0]).toMatchObject({ rule_id: '.m.rule.master', enabled: true });
    expect(accountData(await syncOk(bob, { since: bobSince, set_presence: 'offline' }), 'm.push_rules')).toBeUndefined();

    const later = await syncToken(alice);
    ok(await alice.client.put(`${CS}/pushrules/global/room/${encodeURIComponent('!quiet:localhost')}`, { actions: [] }));
    const next = await syncUntil(alice, later, (b) => accountData(b, 'm.push_rules'));
    expect(next.value.content.global.room).toEqual([{ rule_id: '!quiet:localhost', default: false, enabled: true, actions: [] }]);
    expect(next.value.content.global.override[0].enabled).toBe(true);
  });

  it('follows the account_data filter', async () => {
    const filtered = await syncOk(alice, { set_presence: 'offline', filter: { account_data: { not_types: ['m.push_rules'] } } });
    expect(accountData(filtered, 'm.push_rules')).toBeUndefined();
    const only = await syncOk(alice, { set_presence: 'offline', filter: { account_data: { types: ['m.push_rules'] } } });
    expect(only.account_data.events.map((e: { type: string }) => e.type)).toEqual(['m.push_rules']);
  });
});
