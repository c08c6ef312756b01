import { defineConfig } from 'vitest/config';

// Three tiers (docs/testing.md):
//  unit - pure TypeScript on Linux, against in-memory fakes; fast.
//  wine - the product's built code inside the Windows build of Node under Wine,
//         against the simulated HCS DLLs from test-host/ (needs `npm run test-host`).
//  e2e  - a real Windows host with HCS; runs only when HCS_SANDBOX_E2E=1.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'wine',
          include: ['test/wine/**/*.test.ts'],
          // Wine processes are heavy on a 2-core machine: one test file at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
          globalSetup: ['test/wine/global-setup.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
        },
      },
    ],
  },
});
