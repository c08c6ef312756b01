import { describe, expect, it } from 'vitest';
import {
  ComputeSystem,
  enumerateComputeSystems,
  HcsError,
  isFunctionAvailable,
  serviceProperties,
} from '../../src/hcs/index.js';

// Real-Windows tier: runs against the real computecore.dll. Needs an elevated
// shell on Windows 10 1809+ / Server 2019+ with the Containers feature, and
// HCS_SANDBOX_E2E=1 (see docs/testing.md and .github/workflows/windows-e2e.yml).
const enabled = process.env.HCS_SANDBOX_E2E === '1';

describe.runIf(!enabled)('real-Windows tier', () => {
  it('needs HCS_SANDBOX_E2E=1 on an elevated Windows host with the Containers feature', () => {
    expect.fail('This tier runs only on real Windows: set HCS_SANDBOX_E2E=1 (see docs/testing.md).');
  });
});

describe.runIf(enabled)('HCS core on real Windows', () => {
  it('reads the supported schema versions', async () => {
    const props = await serviceProperties();
    expect(props.supportedSchemaVersions.length).toBeGreaterThan(0);
    expect(props.supportedSchemaVersions.some((v) => v.Major === 2)).toBe(true);
  });

  it('enumerates compute systems (possibly none)', async () => {
    const systems = await enumerateComputeSystems();
    expect(Array.isArray(systems)).toBe(true);
    for (const s of systems) expect(typeof s.Id).toBe('string');
  });

  it('reports an unknown id as HCS_E_SYSTEM_NOT_FOUND', async () => {
    const error = await ComputeSystem.open(`hcs-sandbox-e2e-missing-${Date.now()}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HcsError);
    expect((error as HcsError).isNotFound()).toBe(true);
  });

  it('reports an invalid document with the HRESULT and HCS error document', async () => {
    const error = await ComputeSystem.create(`hcs-sandbox-e2e-invalid-${Date.now()}`, {
      SchemaVersion: { Major: 2, Minor: 1 },
      Owner: 'hcs-sandbox-e2e',
      ShouldTerminateOnLastHandleClosed: true,
      Container: { NoSuchField: true },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HcsError);
    const hcs = error as HcsError;
    expect(hcs.message).toMatch(/0x[0-9A-F]{8}/);
    expect(hcs.isNotSupported() || hcs.hresultName.includes('INVALID')).toBe(true);
  });

  it('knows which optional functions this build exports', () => {
    expect(isFunctionAvailable('HcsCreateOperation')).toBe(true);
    // Present from 2004 / Server 2022 on; the runner is Server 2022.
    expect(typeof isFunctionAvailable('HcsWaitForComputeSystemExit')).toBe('boolean');
  });
});
