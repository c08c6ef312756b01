import type { ProbeHost, RowVerdict } from '../../../src/probe/index.js';

/** An elevated Windows 11 host, as the VM probe items' tests run them (never Wine). */
export const WINDOWS_HOST: ProbeHost = {
  platform: 'win32',
  arch: 'x64',
  release: '10.0.26100',
  build: 26100,
  edition: 'Windows 11 Pro',
  elevated: true,
  wine: null,
  hcsSandboxVersion: '0.0.0-test',
  nodeVersion: process.version,
  hcsSchemaVersions: ['2.1'],
};

/** Row id to status: what a table row of the report says, without the observations. */
export function verdictStatuses(verdicts: Record<string, RowVerdict> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(verdicts ?? {}).map(([row, v]) => [row, v.status]));
}
