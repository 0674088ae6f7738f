import { ADMIN, ALICE, BOB, CAROL, DAVE, MOD, member, runAuthCases, STAFF_LEVELS as LEVELS, staffRoom as room } from './test-fixtures.ts';

runAuthCases('rule 4.4: invite', [
  {
    name: '4.4.4 allow: joined member at the default invite level',
    setup: room({ members: { [CAROL]: 'join' } }),
    event: member(CAROL, BOB, 'invite'),
    expect: true,
  },
  {
    name: '4.4.4 allow: invite retracts a knock',
    setup: room({ joinRule: 'knock', members: { [BOB]: 'knock' } }),
    event: member(MOD, BOB, 'invite'),
    expect: true,
  },
  {
    name: '4.4.2 deny: sender is not joined',
    setup: room({ members: { [CAROL]: 'invite' } }),
    event: member(CAROL, BOB, 'invite'),
    expect: 'sender is not joined',
  },
  {
    name: '4.4.3 deny: target already joined',
    setup: room({ members: { [BOB]: 'join' } }),
    event: member(MOD, BOB, 'invite'),
    expect: 'already joined',
  },
  {
    name: '4.4.3 deny: target banned',
    setup: room({ members: { [BOB]: 'ban' } }),
    event: member(ADMIN, BOB, 'invite'),
    expect: 'already banned',
  },
  {
    name: '4.4.5 deny: below the invite level',
    setup: room({ members: { [CAROL]: 'join' }, powerLevels: { ...LEVELS, invite: 50 } }),
    event: member(CAROL, BOB, 'invite'),
    expect: 'below the invite level',
  },
  {
    name: '4.4.4 allow: at exactly the invite level',
    setup: room({ powerLevels: { ...LEVELS, invite: 50 } }),
    event: member(MOD, BOB, 'invite'),
    expect: true,
  },
  {
    name: '4.4.4 allow: v12 creator beats any invite level',
    versions: ['12'],
    setup: room({ powerLevels: { ...LEVELS, invite: 9000 } }),
    event: member(ALICE, BOB, 'invite'),
    expect: true,
  },
  {
    name: '4.4.5 deny: v10/v11 creator is just users_default with power levels',
    versions: ['10', '11'],
    setup: room({ powerLevels: { ...LEVELS, invite: 9000 } }),
    event: member(ALICE, BOB, 'invite'),
    expect: 'below the invite level',
  },
  {
    name: '4.4.4 allow: creator has 100 (v10/v11) or infinity (v12) without power levels',
    setup: { members: { [CAROL]: 'join' } },
    event: member(ALICE, BOB, 'invite'),
    expect: true,
  },
]);

runAuthCases('rule 4.5: leave', [
  ...(['join', 'invite', 'knock'] as const).map((m) => ({
    name: `4.5.1 allow: own leave from ${m}`,
    setup: room({ members: { [BOB]: m } }),
    event: member(BOB, BOB, 'leave'),
    expect: true as const,
  })),
  ...(['ban', 'leave', null] as const).map((m) => ({
    name: `4.5.1 deny: own leave from ${m ?? 'no membership'}`,
    setup: room({ members: { [BOB]: m } }),
    event: member(BOB, BOB, 'leave'),
    expect: 'cannot leave',
  })),
  {
    name: '4.5.2 deny: kicker is not joined',
    setup: room({ members: { [MOD]: 'leave', [BOB]: 'join' } }),
    event: member(MOD, BOB, 'leave'),
    expect: 'sender is not joined',
  },
  {
    name: '4.5.3 deny: unban below the ban level',
    setup: room({ members: { [BOB]: 'ban' }, powerLevels: { ...LEVELS, kick: 50, ban: 75 } }),
    event: member(MOD, BOB, 'leave'),
    expect: 'unban needs the ban level',
  },
  {
    name: '4.5.3 allow: unban at ban and kick level',
    setup: room({ members: { [BOB]: 'ban' }, powerLevels: { ...LEVELS, kick: 50, ban: 75 } }),
    event: member(ADMIN, BOB, 'leave'),
    expect: true,
  },
  {
    name: '4.5.4 allow: kick a lower user',
    setup: room({ members: { [BOB]: 'join' } }),
    event: member(MOD, BOB, 'leave'),
    expect: true,
  },
  {
    name: '4.5.4 allow: revoke an invite',
    setup: room({ members: { [BOB]: 'invite' } }),
    event: member(MOD, BOB, 'leave'),
    expect: true,
  },
  {
    name: '4.5.5 deny: kick a higher user',
    setup: room(),
    event: member(MOD, ADMIN, 'leave'),
    expect: 'cannot kick',
  },
  {
    name: '4.5.5 deny: kick an equal user',
    setup: room({ members: { [DAVE]: 'join' }, powerLevels: { users: { [MOD]: 50, [DAVE]: 50 } } }),
    event: member(MOD, DAVE, 'leave'),
    expect: 'cannot kick',
  },
  {
    name: '4.5.5 deny: below the kick level',
    setup: room({ members: { [BOB]: 'join' }, powerLevels: { ...LEVELS, kick: 60 } }),
    event: member(MOD, BOB, 'leave'),
    expect: 'cannot kick',
  },
  {
    name: '4.5.4 allow: v12 creator kicks a power-100 admin',
    versions: ['12'],
    setup: room(),
    event: member(ALICE, ADMIN, 'leave'),
    expect: true,
  },
  {
    name: '4.5.5 deny: v12 admin cannot kick a creator',
    versions: ['12'],
    setup: room(),
    event: member(ADMIN, ALICE, 'leave'),
    expect: 'cannot kick',
  },
  {
    name: '4.5.4 allow: v10/v11 admin can kick the creator (no creator privilege)',
    versions: ['10', '11'],
    setup: room(),
    event: member(ADMIN, ALICE, 'leave'),
    expect: true,
  },
  {
    name: '4.5.5 deny: v12 creators cannot kick each other (infinity is not below infinity)',
    versions: ['12'],
    setup: room({ createContent: { additional_creators: [CAROL] }, members: { [CAROL]: 'join' } }),
    event: member(ALICE, CAROL, 'leave'),
    expect: 'cannot kick',
  },
]);

runAuthCases('rule 4.6: ban', [
  {
    name: '4.6.2 allow: ban a lower user',
    setup: room({ members: { [BOB]: 'join' } }),
    event: member(MOD, BOB, 'ban'),
    expect: true,
  },
  {
    name: '4.6.2 allow: pre-emptive ban of a non-member',
    setup: room(),
    event: member(MOD, DAVE, 'ban'),
    expect: true,
  },
  {
    name: '4.6.1 deny: banner is not joined',
    setup: room({ members: { [MOD]: 'invite' } }),
    event: member(MOD, BOB, 'ban'),
    expect: 'sender is not joined',
  },
  { name: '4.6.3 deny: ban a higher user', setup: room(), event: member(MOD, ADMIN, 'ban'), expect: 'cannot ban' },
  {
    name: '4.6.3 deny: below the ban level',
    setup: room({ powerLevels: { ...LEVELS, ban: 51 } }),
    event: member(MOD, BOB, 'ban'),
    expect: 'cannot ban',
  },
  {
    name: '4.6.3 deny: v12 nobody can ban a creator',
    versions: ['12'],
    setup: room(),
    event: member(ADMIN, ALICE, 'ban'),
    expect: 'cannot ban',
  },
  {
    name: '4.6.2 allow: v10/v11 admin can ban the creator',
    versions: ['10', '11'],
    setup: room(),
    event: member(ADMIN, ALICE, 'ban'),
    expect: true,
  },
]);

runAuthCases('rule 4.7: knock', [
  ...(['knock', 'knock_restricted'] as const).map((rule) => ({
    name: `4.7.3 allow: knock on a ${rule} room`,
    setup: room({ joinRule: rule }),
    event: member(BOB, BOB, 'knock'),
    expect: true as const,
  })),
  {
    name: '4.7.3 allow: knock after leaving',
    setup: room({ joinRule: 'knock', members: { [BOB]: 'leave' } }),
    event: member(BOB, BOB, 'knock'),
    expect: true,
  },
  ...(['public', 'invite', 'restricted'] as const).map((rule) => ({
    name: `4.7.1 deny: knock on a ${rule} room`,
    setup: room({ joinRule: rule }),
    event: member(BOB, BOB, 'knock'),
    expect: 'forbids knocking',
  })),
  {
    name: '4.7.1 deny: no join rules',
    setup: room(),
    event: member(BOB, BOB, 'knock'),
    expect: 'forbids knocking',
  },
  {
    name: '4.7.2 deny: knock for someone else',
    setup: room({ joinRule: 'knock' }),
    event: member(MOD, BOB, 'knock'),
    expect: 'sender does not match state_key',
  },
  ...(['ban', 'invite', 'join'] as const).map((m) => ({
    name: `4.7.4 deny: knock while ${m}`,
    setup: room({ joinRule: 'knock', members: { [BOB]: m } }),
    event: member(BOB, BOB, 'knock'),
    expect: `membership is ${m}`,
  })),
]);

runAuthCases('rule 4.8: unknown membership', [
  {
    name: '4.8 deny: unknown membership',
    setup: room(),
    event: member(MOD, MOD, 'promote'),
    expect: 'unknown membership',
  },
  {
    name: '4.8 deny: membership is not a string',
    setup: room(),
    event: { type: 'm.room.member', sender: MOD, state_key: MOD, content: { membership: 1 } },
    expect: 'unknown membership',
  },
]);
