// The host rules of the simulated computestorage.dll (test-host/sim/privileges.c)
// against the product's storage layer: privileges for import/export/destroy,
// base-layer setup where the layer lives, the "unelevated" knob, and
// HcsDestroyLayer leaving its folder behind.
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, main, scan, storage, storageSim, trace } from './storage-lib.mjs';
import { writeTransportLayer } from './transport-lib.mjs';

const [work] = process.argv.slice(2);

async function outcome(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: { ...describeError(error), path: error?.path } };
  }
}

await main(async () => {
  storageSim({ Op: 'ResetAudit' });
  const result = {};
  const source = join(work, 'extracted');
  await writeTransportLayer(source, { 'Files/Windows/base.txt': 'base' });
  result.config = storageSim({ Op: 'SetConfig', Config: {} });

  trace('privileges: import, export and destroy with the sim checking the token');
  const basePath = join(work, 'layers', 'base');
  result.import = await outcome(() => storage.importLayer(basePath, source, []));
  if (!result.import.ok) return result; // the rest needs the layer

  trace('a base layer that was not set up cannot be a parent');
  const parents = [storage.layerRef(basePath)];
  result.notSetUp = await outcome(() =>
    storage.createScratchLayer({ dir: join(work, 'sandboxes', 'a'), sizeGB: 1, parents }),
  );
  result.setup = await outcome(() => storage.setupBaseLayer(basePath));
  result.baseAfterSetup = scan(basePath).filter((p) => !p.startsWith('Files'));
  const layer = await outcome(() =>
    storage.createScratchLayer({ dir: join(work, 'sandboxes', 'b'), sizeGB: 1, parents }),
  );
  result.afterSetup = { ok: layer.ok, error: layer.error };

  trace('set up, then moved: its disks point at the old place');
  const moved = join(work, 'layers', 'moved');
  cpSync(basePath, moved, { recursive: true });
  result.setUpElsewhere = await outcome(() =>
    storage.createScratchLayer({
      dir: join(work, 'sandboxes', 'c'),
      sizeGB: 1,
      parents: [storage.layerRef(moved)],
    }),
  );

  trace('export (privileges)');
  result.export = await outcome(() =>
    storage.exportLayer(layer.value.volumePath, join(work, 'exported'), parents, { writable: true }),
  );

  trace('unelevated: an empty mount path, format denied');
  await storage.unmountScratchLayer(layer.value);
  storageSim({ Op: 'SetConfig', Config: { Unelevated: true } });
  result.unelevatedMount = await outcome(() =>
    storage.mountScratchLayer(join(work, 'sandboxes', 'b'), parents),
  );
  result.unelevatedCreate = await outcome(() =>
    storage.createScratchLayer({ dir: join(work, 'sandboxes', 'd'), sizeGB: 1, parents }),
  );
  storageSim({ Op: 'SetConfig', Config: { Unelevated: false } });

  trace('destroy: success with the folder left behind');
  storageSim({ Op: 'SetConfig', Config: { DestroyLeavesFolder: 2 } });
  result.destroyRetried = await outcome(() => storage.destroyScratchLayer(join(work, 'sandboxes', 'b')));
  result.destroyRetriedGone = !existsSync(join(work, 'sandboxes', 'b'));
  storageSim({ Op: 'SetConfig', Config: { DestroyLeavesFolder: 100 } });
  result.destroyStuck = await outcome(() => storage.destroyLayer(moved));
  result.stuckStillThere = existsSync(join(moved, 'Files'));
  storageSim({ Op: 'SetConfig', Config: { DestroyLeavesFolder: 0 } });
  await storage.destroyLayer(moved);
  await storage.destroyLayer(basePath);
  await storage.destroyLayer(join(work, 'exported')).catch(() => {});
  result.layersLeft = scan(join(work, 'layers'));
  result.audit = storageSim({ Op: 'Audit' });
  return result;
});
