#!/usr/bin/env node
/**
 * The `hcs-sandbox` command: sizes the thread pool (threadpool.cts, which must
 * run before any ES module is loaded), then loads the CLI (main.ts).
 */
require('./threadpool.cjs');

import('./main.js').catch((error: unknown) => {
  process.stderr.write(`hcs-sandbox: could not start: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 70;
});
