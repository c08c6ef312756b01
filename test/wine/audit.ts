import { expect } from 'vitest';

/** The simulated host's audit for one process (see test-host/sim/README.md). */
export interface SimAudit {
  Operations: { Created: number; Closed: number };
  SystemHandles: { Opened: number; Closed: number };
  ProcessHandles: { Opened: number; Closed: number };
  Strings: { Allocated: number; Live: number };
  StdioHandles: { Returned: number; Live: number };
  CallbacksInFlight: number;
  EventRegistrations: number;
  Violations: string[];
}

/** Asserts that the product released everything the simulated host gave it. */
export function expectNoLeaks(audit: SimAudit | undefined): void {
  expect(audit, 'the script returned no audit').toBeDefined();
  const a = audit as SimAudit;
  expect(a.Violations).toEqual([]);
  expect(a.Operations.Closed).toBe(a.Operations.Created);
  expect(a.SystemHandles.Closed).toBe(a.SystemHandles.Opened);
  expect(a.ProcessHandles.Closed).toBe(a.ProcessHandles.Opened);
  expect(a.Strings.Live).toBe(0);
  expect(a.StdioHandles.Live).toBe(0);
  expect(a.CallbacksInFlight).toBe(0);
  expect(a.EventRegistrations).toBe(0);
}
