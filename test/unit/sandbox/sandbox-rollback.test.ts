import { describe, expect, it, vi } from 'vitest';
import { Sandbox } from '../../../src/sandbox/index.js';
import { RollbackError } from '../../../src/storage/index.js';
import { type FakeBehaviour, type FakeFunctionName, FakeHr } from '../../support/fake-computecore.js';
import { rejectionOf } from '../../support/fake-harness.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

// The schema builders take Windows host paths; the temporary home here is POSIX.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const host = useFakeSandboxHost();

const ERROR_ACCESS_DENIED = 5;
const E_FAIL = 0x80004005 | 0;

/** A native step of create, and how to make it fail. */
interface Step {
  step: string;
  inject: () => void;
}

/** The n-th call of a computestorage/virtdisk function fails (HRESULT or Win32 code). */
function storageStep(fn: string, code: number, nth = 1): Step {
  return { step: nth === 1 ? fn : `${fn} #${nth}`, inject: () => host.storage.fail(fn, code, nth) };
}

/** The n-th call of an HCS function completes with an error. */
function hcsStep(fn: FakeFunctionName, nth = 1, what: string = fn): Step {
  const failure: FakeBehaviour = { kind: 'fail', hresult: FakeHr.HCS_E_INVALID_STATE };
  return {
    step: what,
    inject: () => {
      // Calls before the n-th run normally (a zero delay is the plain simulation).
      for (let i = 1; i < nth; i++) host.hcs.fake.onNext(fn, { kind: 'delay', ms: 0 });
      host.hcs.fake.onNext(fn, failure);
    },
  };
}

/** The writable layer's steps, the same under both isolations. */
const SCRATCH_STEPS: Step[] = [
  storageStep('CreateVirtualDisk', ERROR_ACCESS_DENIED),
  storageStep('HcsFormatWritableLayerVhd', E_FAIL),
  storageStep('AttachVirtualDisk', ERROR_ACCESS_DENIED),
  storageStep('HcsGetLayerVhdMountPath', E_FAIL),
  storageStep('HcsInitializeWritableLayer', E_FAIL),
  storageStep('HcsAttachLayerStorageFilter', E_FAIL),
];

const STEPS: Record<'process' | 'hyperv', Step[]> = {
  process: [...SCRATCH_STEPS, hcsStep('HcsCreateComputeSystem'), hcsStep('HcsStartComputeSystem')],
  hyperv: [
    ...SCRATCH_STEPS,
    // Hyper-V unmounts the writable layer again: the utility VM attaches it itself.
    // Not a refusal a retry gets past: the filter is not there (ERROR_NOT_FOUND).
    storageStep('HcsDetachLayerStorageFilter', 0x80070490 | 0),
    storageStep('DetachVirtualDisk', ERROR_ACCESS_DENIED),
    hcsStep('HcsCreateComputeSystem', 1, 'HcsCreateComputeSystem (utility VM)'),
    hcsStep('HcsStartComputeSystem', 1, 'HcsStartComputeSystem (utility VM)'),
    hcsStep('HcsModifyComputeSystem', 1, 'HcsModifyComputeSystem (first prepare request)'),
    hcsStep('HcsModifyComputeSystem', 3, 'HcsModifyComputeSystem (last prepare request)'),
    hcsStep('HcsCreateComputeSystem', 2, 'HcsCreateComputeSystem (container)'),
    hcsStep('HcsStartComputeSystem', 2, 'HcsStartComputeSystem (container)'),
  ],
};

describe.each(['process', 'hyperv'] as const)('Sandbox.create (%s) rolls back', (isolation) => {
  it.each(STEPS[isolation])('a failure at $step', async ({ step, inject }) => {
    const image = await host.seedImage({ utilityVm: isolation === 'hyperv' });
    inject();
    const error = await rejectionOf(
      Sandbox.create({ image, isolation, name: 'sb1', home: host.home, network: 'none', scratchSizeGB: 1 }),
    );
    // The step's own error, not a failure of the rollback.
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RollbackError);
    const hcsFailure =
      step.startsWith('HcsCreateComputeSystem') ||
      step.startsWith('HcsStart') ||
      step.startsWith('HcsModify');
    if (hcsFailure) expect(error).toMatchObject({ hresult: FakeHr.HCS_E_INVALID_STATE >>> 0 });
    else expect((error as Error).message).toContain(step.split(' ')[0]);
    // No record, no writable layer, no compute system, no disk handle, attachment or filter;
    // the harness then proves no HCS handle or operation leaked.
    host.expectNothingLeft('sb1');
  });
});

describe('Sandbox.create rollback', () => {
  it('reports a step that could not be undone with the original failure', async () => {
    const image = await host.seedImage();
    host.hcs.fake.onNext('HcsStartComputeSystem', { kind: 'fail', hresult: FakeHr.HCS_E_INVALID_STATE });
    host.storage.fail('HcsDestroyLayer', E_FAIL);
    const error = await rejectionOf(
      Sandbox.create({ image, name: 'sb1', home: host.home, network: 'none', scratchSizeGB: 1 }),
    );
    expect(error).toBeInstanceOf(RollbackError);
    expect((error as RollbackError).cause).toMatchObject({ hresult: FakeHr.HCS_E_INVALID_STATE >>> 0 });
    expect(host.hcs.fake.systemIds()).toEqual([]);
  });
});
