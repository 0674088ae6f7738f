import { ALICE, BOB, DAVE, MOD, member, runAuthCases, STAFF_LEVELS as LEVELS, staffRoom as room } from './test-fixtures.ts';

runAuthCases('rule 4.1-4.2: member event shape and authorising server signature', [
  {
    name: '4.1 deny: no state_key',
    setup: room({ joinRule: 'public' }),
    event: { type: 'm.room.member', sender: BOB, content: { membership: 'join' } },
    expect: 'missing state_key',
  },
  {
    name: '4.1 deny: no membership',
    setup: room({ joinRule: 'public' }),
    event: { type: 'm.room.member', sender: BOB, state_key: BOB, content: { displayname: 'Bob' } },
    expect: 'missing state_key or content.membership',
  },
  {
    name: "4.2 allow: signed by the authorising user's server",
    setup: room({ joinRule: 'restricted' }),
    event: {
      ...member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }),
      signatures: { 'b.example': { 'ed25519:1': 's' }, 'm.example': { 'ed25519:1': 's' } },
    },
    expect: true,
  },
  {
    name: "4.2 deny: not signed by the authorising user's server",
    setup: room({ joinRule: 'restricted' }),
    event: member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }),
    expect: 'not signed by the server of join_authorised_via_users_server',
  },
  {
    name: '4.2 deny: join_authorised_via_users_server is not a user ID',
    setup: room({ joinRule: 'public' }),
    event: {
      ...member(BOB, BOB, 'join', { join_authorised_via_users_server: 'm.example' }),
      signatures: { 'b.example': { 'ed25519:1': 's' }, 'm.example': { 'ed25519:1': 's' } },
    },
    expect: 'not signed by the server',
  },
  {
    name: '4.2 deny: applies to any membership, even in a public room',
    setup: room({ joinRule: 'public' }),
    event: member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }),
    expect: 'not signed by the server',
  },
  {
    name: '4.2 deny: verifyServerSignature hook rejects',
    setup: room({ joinRule: 'restricted' }),
    event: {
      ...member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }),
      signatures: { 'b.example': { 'ed25519:1': 's' }, 'm.example': { 'ed25519:1': 'forged' } },
    },
    options: { verifyServerSignature: (e, server) => e.signatures[server]?.['ed25519:1'] !== 'forged' },
    expect: 'not signed by the server',
  },
  {
    name: '4.2 allow: verifyServerSignature hook accepts',
    setup: room({ joinRule: 'restricted' }),
    event: member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }),
    options: { verifyServerSignature: (_e, server) => server === 'm.example' },
    expect: true,
  },
]);

const signedVia = (via: string) => ({
  ...member(BOB, BOB, 'join', { join_authorised_via_users_server: via }),
  signatures: { 'b.example': { 'ed25519:1': 's' }, [via.split(':')[1] ?? '']: { 'ed25519:1': 's' } },
});

runAuthCases('rule 4.3: join', [
  // 4.3.1
  {
    name: '4.3.1 allow: creator joins right after the create event',
    setup: { members: { [ALICE]: null } },
    event: (r) => ({ ...member(ALICE, ALICE, 'join'), prev_events: [r.create.event_id] }),
    expect: true,
  },
  {
    name: '4.3.1 deny: creator join with more than the create event as prev_events',
    setup: { members: { [ALICE]: null } },
    event: (r) => ({ ...member(ALICE, ALICE, 'join'), prev_events: [r.create.event_id, '$other'] }),
    expect: 'does not allow joining',
  },
  {
    name: '4.3.1 deny: a non-creator right after the create event',
    setup: { members: { [ALICE]: null } },
    event: (r) => ({ ...member(BOB, BOB, 'join'), prev_events: [r.create.event_id] }),
    expect: 'does not allow joining',
  },
  {
    name: '4.3.1 allow: v10 uses content.creator, not the create sender',
    versions: ['10'],
    setup: { createContent: { creator: BOB }, members: { [ALICE]: null } },
    event: (r) => ({ ...member(BOB, BOB, 'join'), prev_events: [r.create.event_id] }),
    expect: true,
  },
  {
    name: '4.3.1 deny: v11+ ignores content.creator',
    versions: ['11', '12'],
    setup: { createContent: { creator: BOB }, members: { [ALICE]: null } },
    event: (r) => ({ ...member(BOB, BOB, 'join'), prev_events: [r.create.event_id] }),
    expect: 'does not allow joining',
  },
  // 4.3.2
  {
    name: '4.3.2 deny: joining someone else',
    setup: room({ joinRule: 'public' }),
    event: member(MOD, BOB, 'join'),
    expect: 'sender does not match state_key',
  },
  // 4.3.3
  {
    name: '4.3.3 deny: banned user joins a public room',
    setup: room({ joinRule: 'public', members: { [BOB]: 'ban' } }),
    event: member(BOB, BOB, 'join'),
    expect: 'banned',
  },
  // 4.3.4
  ...(['invite', 'knock'] as const).flatMap((rule) => [
    {
      name: `4.3.4 allow: ${rule} room, invited user joins`,
      setup: room({ joinRule: rule, members: { [BOB]: 'invite' } }),
      event: member(BOB, BOB, 'join'),
      expect: true as const,
    },
    {
      name: `4.3.4 allow: ${rule} room, joined user re-joins (profile change)`,
      setup: room({ joinRule: rule, members: { [BOB]: 'join' } }),
      event: member(BOB, BOB, 'join'),
      expect: true as const,
    },
    {
      name: `4.3.4 deny: ${rule} room, uninvited user`,
      setup: room({ joinRule: rule }),
      event: member(BOB, BOB, 'join'),
      expect: 'not invited',
    },
    {
      name: `4.3.4 deny: ${rule} room, user who only knocked`,
      setup: room({ joinRule: rule, members: { [BOB]: 'knock' } }),
      event: member(BOB, BOB, 'join'),
      expect: 'not invited',
    },
  ]),
  // 4.3.5
  ...(['restricted', 'knock_restricted'] as const).flatMap((rule) => [
    {
      name: `4.3.5.1 allow: ${rule} room, invited user`,
      setup: room({ joinRule: rule, members: { [BOB]: 'invite' } }),
      event: member(BOB, BOB, 'join'),
      expect: true as const,
    },
    {
      name: `4.3.5.1 allow: ${rule} room, already joined user`,
      setup: room({ joinRule: rule, members: { [BOB]: 'join' } }),
      event: member(BOB, BOB, 'join'),
      expect: true as const,
    },
    {
      name: `4.3.5.3 allow: ${rule} room, authorised by a joined user with invite power`,
      setup: room({ joinRule: rule }),
      event: signedVia(MOD),
      expect: true as const,
    },
    {
      name: `4.3.5.2 deny: ${rule} room, no authorising user`,
      setup: room({ joinRule: rule }),
      event: member(BOB, BOB, 'join'),
      expect: 'needs join_authorised_via_users_server',
    },
    {
      name: `4.3.5.2 deny: ${rule} room, authorising user is not joined`,
      setup: room({ joinRule: rule, members: { [DAVE]: 'invite' } }),
      event: signedVia(DAVE),
      expect: 'not a joined member',
    },
    {
      name: `4.3.5.2 deny: ${rule} room, authorising user lacks invite power`,
      setup: room({ joinRule: rule, members: { [DAVE]: 'join' }, powerLevels: { ...LEVELS, invite: 10 } }),
      event: signedVia(DAVE),
      expect: 'lacks invite power',
    },
    {
      name: `4.3.5.2 deny: ${rule} room, sender is banned even with an authoriser`,
      setup: room({ joinRule: rule, members: { [BOB]: 'ban' } }),
      event: signedVia(MOD),
      expect: 'banned',
    },
  ]),
  {
    name: '4.3.5 allow: v12 creator has invite power whatever the invite level',
    versions: ['12'],
    setup: room({ joinRule: 'restricted', powerLevels: { ...LEVELS, invite: 100 } }),
    event: signedVia(ALICE),
    expect: true,
  },
  {
    name: '4.3.5 deny: v10/v11 creator has no special power once power levels exist',
    versions: ['10', '11'],
    setup: room({ joinRule: 'restricted', powerLevels: { ...LEVELS, invite: 100 } }),
    event: signedVia(ALICE),
    expect: 'lacks invite power',
  },
  // 4.3.6
  {
    name: '4.3.6 allow: public room',
    setup: room({ joinRule: 'public' }),
    event: member(BOB, BOB, 'join'),
    expect: true,
  },
  // 4.3.7
  {
    name: '4.3.7 deny: no join rules event',
    setup: room(),
    event: member(BOB, BOB, 'join'),
    expect: 'does not allow joining',
  },
  {
    name: '4.3.7 deny: unknown join rule',
    setup: room({ joinRule: 'private' }),
    event: member(BOB, BOB, 'join'),
    expect: 'does not allow joining',
  },
]);
