import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding CommComms' package.json, for the files the server reads beside its code
 * (migrations, the initdb script). Found by walking up from this module, because the module is
 * not always where its source is: `npm start` runs one bundle of the server from
 * node_modules/.cache/commcomms (bin/commcomms.mjs), tests and tsx run the sources.
 */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'commcomms') return dir;
    if (dirname(dir) === dir) throw new Error(`no commcomms package.json above ${from}`);
  }
}
