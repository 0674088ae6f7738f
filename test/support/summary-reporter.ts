import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/**
 * Ends a run with plain lines for CI (vitest's own summary is for people): how many
 * tests each leg (vitest project) ran, then `vitest: N passed, N failed, N skipped`.
 * A file that failed to load counts as one failure, and so does each unhandled error.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    const perLeg = new Map<string, number>();
    for (const mod of testModules) {
      const leg = mod.project.name || 'default';
      if (mod.errors().length > 0) failed++;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
        if (state === 'passed' || state === 'failed') perLeg.set(leg, (perLeg.get(leg) ?? 0) + 1);
      }
    }
    const legs = [...perLeg].map(([leg, n]) => `${leg} (${n} tests)`).join(', ');
    console.log(`[legs] ran: ${legs || 'none'}`);
    console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
