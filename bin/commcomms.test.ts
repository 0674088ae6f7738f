import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The launcher, run on a package of its own shape (bin/, server/cli.ts, node_modules with
 * esbuild and tsx) so that its cache, and a cache it cannot write, are this test's alone.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
let pkg: string;

const cli = (word: string) => `import { word } from './word.ts';
if (process.argv[2] === 'throw') throw new Error('thrown from the cli');
console.log(JSON.stringify({ word, url: import.meta.url, argv: process.argv.slice(2) }));
${word}`;

async function launch(...args: string[]) {
  const { stdout, stderr } = await run(process.execPath, [join(pkg, 'bin', 'commcomms.mjs'), ...args], { cwd: pkg });
  return { out: JSON.parse(stdout) as { word: string; url: string; argv: string[] }, stderr };
}
const bundle = () => join(pkg, 'node_modules', '.cache', 'commcomms', 'cli.mjs');

beforeAll(() => {
  pkg = mkdtempSync(join(tmpdir(), 'commcomms-launcher-'));
  mkdirSync(join(pkg, 'bin'));
  mkdirSync(join(pkg, 'server'));
  mkdirSync(join(pkg, 'node_modules'));
  copyFileSync(join(ROOT, 'bin', 'commcomms.mjs'), join(pkg, 'bin', 'commcomms.mjs'));
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'commcomms', type: 'module' }));
  writeFileSync(join(pkg, 'server', 'cli.ts'), cli(''));
  writeFileSync(join(pkg, 'server', 'word.ts'), `export const word: string = 'one';\n`);
  for (const dep of ['esbuild', 'tsx']) symlinkSync(join(ROOT, 'node_modules', dep), join(pkg, 'node_modules', dep));
});

afterAll(() => rmSync(pkg, { recursive: true, force: true }));

describe('bin/commcomms.mjs', () => {
  it('runs server/cli.ts from a bundle it makes once, with the arguments it was given', async () => {
    const first = await launch('start', '--config', 'x.yaml');
    expect(first.out).toEqual({ word: 'one', url: `file://${bundle()}`, argv: ['start', '--config', 'x.yaml'] });
    const made = statSync(bundle()).mtimeMs;
    expect((await launch()).out.word).toBe('one');
    expect(statSync(bundle()).mtimeMs).toBe(made);
  });

  it('makes the bundle again when any source it holds changed', async () => {
    writeFileSync(join(pkg, 'server', 'word.ts'), `export const word: string = 'two';\n`);
    expect((await launch()).out.word).toBe('two');
    // Same size, only the content and mtime differ.
    writeFileSync(join(pkg, 'server', 'cli.ts'), cli('// 1'));
    writeFileSync(join(pkg, 'server', 'word.ts'), `export const word: string = 'six';\n`);
    expect((await launch()).out.word).toBe('six');
  });

  it('builds again next time when a source was saved while the bundle was being made', async () => {
    // An mtime after the build began is what a save during the build leaves.
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(pkg, 'server', 'word.ts'), later, later);
    expect((await launch()).out.word).toBe('six');
    const first = statSync(bundle()).mtimeMs;
    await launch();
    const second = statSync(bundle()).mtimeMs;
    expect(second).not.toBe(first);
    // Once the mtime is in the past again, a build is trusted and the next start reuses it.
    const now = new Date();
    utimesSync(join(pkg, 'server', 'word.ts'), now, now);
    await launch();
    const third = statSync(bundle()).mtimeMs;
    expect(third).not.toBe(second);
    await launch();
    expect(statSync(bundle()).mtimeMs).toBe(third);
  });

  it('names the TypeScript source in a stack trace, not the bundle', async () => {
    const failed = await launch('throw').catch((err: { stderr: string }) => err);
    expect('stderr' in failed ? failed.stderr : '').toMatch(/server\/cli\.ts:2/);
  });

  it('runs the sources through tsx, and says so, where the cache cannot be written', async () => {
    rmSync(join(pkg, 'node_modules', '.cache'), { recursive: true, force: true });
    writeFileSync(join(pkg, 'node_modules', '.cache'), 'not a directory');
    writeFileSync(join(pkg, 'server', 'word.ts'), `export const word: string = 'ten';\n`);
    const { out, stderr } = await launch('start');
    expect(out).toEqual({ word: 'ten', url: `file://${join(pkg, 'server', 'cli.ts')}`, argv: ['start'] });
    expect(stderr).toMatch(/running the sources through tsx/);
  });
});
