import { describe, expect, it } from 'vitest';
import type { Pdu } from '../events/pdu.ts';
import { checkRedactionApplies, redactionTarget } from './redaction.ts';
import { ADMIN, ALL_VERSIONS, BOB, CAROL, DAVE, MOD, makeRoom, type TestRoom, V10, V11, V12, expectResult } from './test-fixtures.ts';

const setup = {
  members: { [BOB]: 'join', [CAROL]: 'join', [DAVE]: 'join', [MOD]: 'join', [ADMIN]: 'join' },
  powerLevels: { users: { [MOD]: 50, [ADMIN]: 100 }, redact: 50 },
};

/** A redaction in the version's format: top-level `redacts` before v11, content.redacts from v11. */
function redaction(room: TestRoom, sender: string, target: string): Pdu {
  return room.version.updatedRedactionRules
    ? room.event({ type: 'm.room.redaction', sender, content: { redacts: target } })
    : room.event({ type: 'm.room.redaction', sender, content: {}, redacts: target });
}

describe('redactionTarget', () => {
  it.each([
    ['v10 reads the top-level redacts', V10, { redacts: '$top', content: { redacts: '$content' } }, '$top'],
    ['v10 ignores content.redacts', V10, { content: { redacts: '$content' } }, undefined],
    ['v11 reads content.redacts', V11, { redacts: '$top', content: { redacts: '$content' } }, '$content'],
    ['v11 ignores the top-level redacts', V11, { redacts: '$top', content: {} }, undefined],
    ['v12 reads content.redacts', V12, { content: { redacts: '$content' } }, '$content'],
    ['v12 non-string content.redacts', V12, { content: { redacts: 5 } }, undefined],
  ] as const)('%s', (_name, version, fields, expected) => {
    const room = makeRoom(version);
    const event = room.event({
      type: 'm.room.redaction',
      sender: BOB,
      content: { ...fields.content },
      ...('redacts' in fields ? { redacts: fields.redacts } : {}),
    });
    expect(redactionTarget(event, version)).toBe(expected);
  });

  it('is undefined for other event types', () => {
    const room = makeRoom(V10);
    expect(redactionTarget(room.event({ type: 'm.room.message', sender: BOB, redacts: '$x' }), V10)).toBeUndefined();
  });
});

interface Row {
  name: string;
  redactor: string;
  author: string;
  expect: true | string;
  /** Mutates the pair to produce a mismatch. */
  tweak?: (redaction: Pdu, target: Pdu, room: TestRoom) => [Pdu, Pdu];
}

const rows: Row[] = [
  {
    name: "apply: sender at the redact level redacts another server's event",
    redactor: MOD,
    author: BOB,
    expect: true,
  },
  { name: 'apply: same server, below the redact level (a.example)', redactor: CAROL, author: CAROL, expect: true },
  { name: 'apply: same server, different user', redactor: CAROL, author: '@alice:a.example', expect: true },
  {
    name: 'apply: below the redact level but the same domain as the target',
    redactor: '@x:m.example',
    author: MOD,
    expect: true,
  },
  {
    name: 'hold: below the redact level and another domain',
    redactor: BOB,
    author: DAVE,
    expect: 'neither the redact level nor the target sender domain',
  },
  {
    name: 'hold: redaction names another event',
    redactor: MOD,
    author: BOB,
    tweak: (r, t) => [r, { ...t, event_id: '$other' }],
    expect: 'targets a different event',
  },
  {
    name: 'hold: target in another room',
    redactor: MOD,
    author: BOB,
    tweak: (r, t) => [r, { ...t, room_id: '!other:a.example' }],
    expect: 'different rooms',
  },
  {
    name: 'hold: not a redaction',
    redactor: MOD,
    author: BOB,
    tweak: (r, t) => [{ ...r, type: 'm.room.message' }, t],
    expect: 'no redacts target',
  },
];

describe('checkRedactionApplies (Handling redactions)', () => {
  for (const version of ALL_VERSIONS) {
    it.each(rows)(`v${version.id}: $name`, (row) => {
      const room = makeRoom(version, setup);
      const target = room.event({ type: 'm.room.message', sender: row.author, content: { body: 'x' } });
      const [r, t] = (row.tweak ?? ((a: Pdu, b: Pdu) => [a, b] as [Pdu, Pdu]))(
        redaction(room, row.redactor, target.event_id),
        target,
        room,
      );
      expectResult(checkRedactionApplies(r, t, room.lookup, version), row.expect);
    });
  }

  it('v12: redacting the create event uses the room id it implies', () => {
    const room = makeRoom(V12, setup);
    expectResult(checkRedactionApplies(redaction(room, ADMIN, room.create.event_id), room.create, room.lookup, V12), true);
  });

  it('v12: a creator always has the redact level', () => {
    const room = makeRoom(V12, { ...setup, powerLevels: { users: {}, redact: 2 ** 53 - 1 } });
    const target = room.event({ type: 'm.room.message', sender: BOB, content: {} });
    expectResult(checkRedactionApplies(redaction(room, '@alice:a.example', target.event_id), target, room.lookup, V12), true);
  });
});
