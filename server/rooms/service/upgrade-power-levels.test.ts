import { describe, expect, it } from 'vitest';
import { upgradedPowerLevels, type UpgradePowerOptions } from './upgrade-power-levels.ts';

const A = '@alice:hs';
const B = '@bob:hs';
const C = '@carol:hs';

const base = {
  users: { [A]: 100, [B]: 50 },
  users_default: 0,
  events: { 'm.room.name': 50, 'm.room.power_levels': 100, 'm.room.tombstone': 100 },
  state_default: 50,
  ban: 50,
};

function opts(over: Partial<UpgradePowerOptions>): UpgradePowerOptions {
  return { actor: A, oldPrivileged: false, newPrivileged: false, oldCreators: new Set([A]), newCreators: new Set([A]), ...over };
}

describe('upgradedPowerLevels', () => {
  it('copies the levels unchanged between versions without privileged creators', () => {
    expect(upgradedPowerLevels(base, opts({}))).toEqual({ initial: base });
  });

  it('takes the creators out of users and lifts the tombstone level into v12', () => {
    const { initial, final } = upgradedPowerLevels(base, opts({ newPrivileged: true, newCreators: new Set([A, C]) }));
    expect(final).toBeUndefined();
    expect(initial.users).toEqual({ [B]: 50 });
    expect((initial.events as Record<string, number>)['m.room.tombstone']).toBe(150);
  });

  it('keeps a higher tombstone level and leaves v12 to v12 alone', () => {
    const high = { ...base, events: { ...base.events, 'm.room.tombstone': 200 } };
    expect((upgradedPowerLevels(high, opts({ newPrivileged: true })).initial.events as Record<string, number>)['m.room.tombstone']).toBe(
      200,
    );
    const v12 = { ...base, users: { [B]: 50 } };
    expect(
      upgradedPowerLevels(v12, opts({ oldPrivileged: true, newPrivileged: true, actor: B, newCreators: new Set([B]) })).initial.users,
    ).toEqual({});
  });

  it('gives old v12 creators the top level when leaving v12', () => {
    const v12 = { ...base, users: { [B]: 50 }, events: { ...base.events, 'm.room.tombstone': 150 } };
    const { initial } = upgradedPowerLevels(v12, opts({ oldPrivileged: true, oldCreators: new Set([A, C]) }));
    expect(initial.users).toEqual({ [A]: 150, [B]: 50, [C]: 150 });
  });

  it('raises the upgrader for the copy and restores them after', () => {
    const { initial, final } = upgradedPowerLevels(base, opts({ actor: B }));
    expect(initial.users).toEqual({ [A]: 100, [B]: 100 });
    expect(final).toEqual(base);
  });

  it('writes down the creator level of a room that had no power levels', () => {
    expect(upgradedPowerLevels(undefined, opts({})).initial).toEqual({ users: { [A]: 100 }, events: {} });
  });

  it('does not modify its input', () => {
    const copy = structuredClone(base);
    upgradedPowerLevels(base, opts({ actor: B, newPrivileged: true }));
    expect(base).toEqual(copy);
  });
});
