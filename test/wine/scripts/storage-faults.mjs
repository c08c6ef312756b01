// A fault at every step of creating (and of mounting) a scratch layer: the
// product must roll back so that nothing is left, which the simulated DLLs'
// audit and a scan of the folders show.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, main, scan, storage, storageSim, trace } from './storage-lib.mjs';
import { writeTransportLayer } from './transport-lib.mjs';

const [work] = process.argv.slice(2);
const CREATE_STEPS = [
  'CreateVirtualDisk',
  'HcsFormatWritableLayerVhd',
  'AttachVirtualDisk',
  'HcsGetLayerVhdMountPath',
  'HcsInitializeWritableLayer',
  'HcsAttachLayerStorageFilter',
];
const MOUNT_STEPS = [
  'OpenVirtualDisk',
  'AttachVirtualDisk',
  'HcsGetLayerVhdMountPath',
  'HcsAttachLayerStorageFilter',
];
const NOT_READY = 0x80070015 | 0;

await main(async () => {
  storageSim({ Op: 'ResetAudit' });
  const source = join(work, 'extracted');
  await writeTransportLayer(source, { 'Files/f.txt': 'x' });
  const basePath = join(work, 'layers', 'base');
  await storage.importLayer(basePath, source, []);
  await storage.setupBaseLayer(basePath);
  const parents = [storage.layerRef(basePath)];

  const create = {};
  for (const step of CREATE_STEPS) {
    trace(`create fault ${step}`);
    const dir = join(work, 'sandboxes', `create-${step}`);
    storageSim({ Op: 'InjectFault', Fault: { Function: step, Nth: 1, Action: 'Fail', HResult: NOT_READY } });
    let error;
    try {
      await storage.createScratchLayer({ dir, sizeGB: 1, parents });
    } catch (e) {
      error = describeError(e);
    }
    storageSim({ Op: 'ClearFaults' });
    create[step] = { error, dirExists: existsSync(dir), audit: storageSim({ Op: 'Audit' }) };
  }

  const mount = {};
  const dir = join(work, 'sandboxes', 'persistent');
  await storage.unmountScratchLayer(await storage.createScratchLayer({ dir, sizeGB: 1, parents }));
  for (const step of MOUNT_STEPS) {
    trace(`mount fault ${step}`);
    storageSim({ Op: 'InjectFault', Fault: { Function: step, Nth: 1, Action: 'Fail', HResult: NOT_READY } });
    let error;
    try {
      await storage.mountScratchLayer(dir, parents);
    } catch (e) {
      error = describeError(e);
    }
    storageSim({ Op: 'ClearFaults' });
    mount[step] = { error, dirContents: scan(dir), audit: storageSim({ Op: 'Audit' }) };
  }
  // After every failed mount, the layer still mounts and unmounts cleanly.
  await storage.unmountScratchLayer(await storage.mountScratchLayer(dir, parents));

  // An undo that fails too: the original error is kept, the leftover named.
  trace('failing undo');
  const leaky = join(work, 'sandboxes', 'leaky');
  storageSim({
    Op: 'InjectFault',
    Fault: { Function: 'HcsAttachLayerStorageFilter', Nth: 1, Action: 'Fail', HResult: NOT_READY },
  });
  storageSim({
    Op: 'InjectFault',
    Fault: { Function: 'DetachVirtualDisk', Nth: 1, Action: 'Fail', HResult: 0x80070005 | 0 },
  });
  let rollback;
  try {
    await storage.createScratchLayer({ dir: leaky, sizeGB: 1, parents });
  } catch (e) {
    rollback = { ...describeError(e), cause: describeError(e.cause) };
  }
  storageSim({ Op: 'ClearFaults' });
  const leakAudit = storageSim({ Op: 'Audit' });
  // Clean the leftover the way a user would: destroyScratchLayer detaches it.
  await storage.destroyScratchLayer(leaky);

  await storage.destroyScratchLayer(dir);
  await storage.destroyLayer(basePath);
  return {
    create,
    mount,
    rollback,
    leakAudit,
    leakyExistsAfterDestroy: existsSync(leaky),
    end: storageSim({ Op: 'Audit' }),
    sandboxesLeft: scan(join(work, 'sandboxes')),
  };
});
