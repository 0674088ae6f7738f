import { describe, expect, it } from 'vitest';
import { stateKey } from '../events/pdu.ts';
import { partitionState } from './partition.ts';

const K = (t: string): string => stateKey(t, '');

describe('partitionState', () => {
  it.each<{ name: string; sets: Record<string, string>[]; unconflicted: Record<string, string>; conflicted: string[] }>([
    {
      name: 'same value everywhere is unconflicted',
      sets: [
        { a: '$1', b: '$2' },
        { a: '$1', b: '$2' },
      ],
      unconflicted: { a: '$1', b: '$2' },
      conflicted: [],
    },
    {
      name: 'different values are all conflicted',
      sets: [
        { a: '$1', b: '$2' },
        { a: '$1', b: '$3' },
        { a: '$1', b: '$4' },
      ],
      unconflicted: { a: '$1' },
      conflicted: ['$2', '$3', '$4'],
    },
    {
      name: 'a key missing from one set is conflicted',
      sets: [{ a: '$1', b: '$2' }, { a: '$1' }],
      unconflicted: { a: '$1' },
      conflicted: ['$2'],
    },
    { name: 'one set: everything unconflicted', sets: [{ a: '$1' }], unconflicted: { a: '$1' }, conflicted: [] },
    { name: 'no sets', sets: [], unconflicted: {}, conflicted: [] },
  ])('$name', ({ sets, unconflicted, conflicted }) => {
    const maps = sets.map((s) => new Map(Object.entries(s).map(([t, id]) => [K(t), id])));
    const got = partitionState(maps);
    expect(Object.fromEntries([...got.unconflicted].map(([k, v]) => [k.split('\u0000')[0], v]))).toEqual(unconflicted);
    expect([...got.conflicted].sort()).toEqual(conflicted);
  });
});
