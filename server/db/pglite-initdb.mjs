// Creates a new PGlite data directory (initdb), in a process of its own: see
// initEmbeddedDataDir in database.ts. Plain JavaScript, so it runs under bare node
// whichever way the server itself was started (tsx, vitest, Bun).
import { PGlite } from '@electric-sql/pglite';

const db = await PGlite.create({ dataDir: process.argv[2] });
await db.close();
