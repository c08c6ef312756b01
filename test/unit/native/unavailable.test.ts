import { describe, expect, it } from 'vitest';
import {
  ComputeSystem,
  HcsUnavailableError,
  hcsDiagnostics,
  serviceProperties,
} from '../../../src/hcs/index.js';
import { setNativeBindings } from '../../../src/native/index.js';

// On a machine without HCS (this Linux runner), the library imports cleanly and
// the first HCS call fails with one typed error that says what to do.
describe.runIf(process.platform !== 'win32')('without Windows', () => {
  it('imports without loading any DLL', () => {
    expect(hcsDiagnostics()).toEqual({
      eventLoopHolders: 0,
      pendingOperations: 0,
      eventRegistrations: 0,
      nativeCallbackSlots: 0,
    });
  });

  it('fails the first HCS call with HcsUnavailableError (not-windows)', async () => {
    setNativeBindings(undefined);
    const error = await serviceProperties().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HcsUnavailableError);
    expect((error as HcsUnavailableError).reason).toBe('not-windows');
    expect((error as HcsUnavailableError).code).toBe('HCS_UNAVAILABLE');
    expect((error as Error).message).toMatch(/Windows only.*simulated host/s);
    await expect(ComputeSystem.open('anything')).rejects.toBeInstanceOf(HcsUnavailableError);
  });
});
