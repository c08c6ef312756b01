/**
 * The probe: exercises, on the host it runs on, what docs/windows-verification.md
 * says only real Windows can confirm, and writes one JSON report a user can
 * attach to an issue (docs/probe.md).
 */
export { probeItems } from './items/index.js';
export {
  defaultReportPath,
  type ProbeOptions,
  probeSummary,
  runProbe,
  writeProbeReport,
} from './runner.js';
export type {
  ProbeContext,
  ProbeHost,
  ProbeItem,
  ProbeItemReport,
  ProbeItemResult,
  ProbeOutcome,
  ProbeReport,
  RowStatus,
  RowVerdict,
} from './types.js';
