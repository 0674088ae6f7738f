import { defineConfig } from 'vitest/config';

/**
 * Three legs: pure/contract tests once; the HTTP suite against embedded PGlite
 * always, and against a real PostgreSQL when COMMCOMMS_TEST_DATABASE_URL is set
 * (.ci/run sets it). An unconfigured leg is announced, not silently dropped.
 */
const pgUrl = process.env.COMMCOMMS_TEST_DATABASE_URL;
if (!pgUrl) console.warn('[legs] postgres: not configured (set COMMCOMMS_TEST_DATABASE_URL to run the suite on PostgreSQL)');
if (!process.env.REDIS_URL) console.warn('[legs] redis: not configured (set REDIS_URL to run the Redis contract tests)');

const integration = ['test/**/*.test.ts'];
const unitOnly = ['test/contracts/**/*.test.ts', 'test/lint/**/*.test.ts'];
// Several server processes on one database and one Redis: PostgreSQL only (PGlite is
// one process's embedded database), and only with REDIS_URL.
const multiProcess = ['test/multi-process/**/*.test.ts'];
// A second session dying under the first: nothing PGlite (one session) can do.
const severalSessions = ['test/db/stream-watermark-crash.test.ts'];
if (pgUrl && !process.env.REDIS_URL) console.warn('[legs] postgres: test/multi-process not run (it needs REDIS_URL)');

export default defineConfig({
  test: {
    // The default report for people, then one plain `vitest: N passed, N failed` line for CI.
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['bin/**/*.test.ts', 'federation/**/*.test.ts', 'server/**/*.test.ts', ...unitOnly],
        },
      },
      {
        test: {
          name: 'pglite',
          include: integration,
          exclude: [...unitOnly, ...multiProcess, ...severalSessions],
          env: { COMMCOMMS_TEST_DB: 'pglite' },
          globalSetup: ['test/support/pglite-template.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      ...(pgUrl
        ? [
            {
              test: {
                name: 'postgres',
                include: integration,
                exclude: process.env.REDIS_URL ? unitOnly : [...unitOnly, ...multiProcess],
                env: { COMMCOMMS_TEST_DB: 'postgres' },
                testTimeout: 60_000,
                hookTimeout: 120_000,
              },
            },
          ]
        : []),
    ],
  },
});
