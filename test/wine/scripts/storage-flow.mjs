// The whole life of a scratch layer through the product's storage layer:
// import a base layer, create the scratch layer on it, write to its volume,
// unmount, mount again (the data persisted), export the writable layer and
// import the export as a new layer, then destroy everything.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main, scan, storage, storageSim, trace } from './storage-lib.mjs';
import { writeTransportLayer } from './transport-lib.mjs';

const [work] = process.argv.slice(2);

await main(async () => {
  storageSim({ Op: 'ResetAudit' });
  const result = { audits: {} };
  const source = join(work, 'extracted');
  await writeTransportLayer(source, { 'Files/Windows/base.txt': 'from the base layer' });

  trace('import base');
  const basePath = join(work, 'layers', 'base');
  await storage.importLayer(basePath, source, []);
  await storage.setupBaseLayer(basePath);
  const parents = [storage.layerRef(basePath)];
  result.baseFiles = scan(join(basePath, 'Files'));

  trace('create scratch');
  const dir = join(work, 'sandboxes', 'sb1');
  const phases = [];
  const layer = await storage.createScratchLayer(
    { dir, sizeGB: 1, parents },
    { onProgress: (p) => phases.push(p.phase) },
  );
  result.layer = { ...layer };
  result.phases = phases;
  result.volumeExists = existsSync(layer.volumePath);
  // What virtdisk read from CREATE_VIRTUAL_DISK_PARAMETERS v2: proves the struct offsets.
  result.diskInfo = storageSim({ Op: 'DiskInfo', Path: layer.vhdxPath });
  result.scratchSize = await storage.scratchSize(dir);
  result.audits.mounted = storageSim({ Op: 'Audit' });
  writeFileSync(join(layer.volumePath, 'Files', 'written.txt'), 'written in the sandbox');

  trace('unmount');
  await storage.unmountScratchLayer(layer);
  result.audits.unmounted = storageSim({ Op: 'Audit' });
  result.dirAfterUnmount = scan(dir);

  trace('mount again');
  const again = await storage.mountScratchLayer(dir, parents);
  result.remounted = { ...again };
  result.persisted = readFileSync(join(again.volumePath, 'Files', 'written.txt'), 'utf8');

  trace('export writable layer, import it as an image layer');
  const exported = join(work, 'exported');
  await storage.exportLayer(again.volumePath, exported, parents, { writable: true });
  result.exportedFiles = scan(exported);
  const appPath = join(work, 'layers', 'app');
  await storage.importLayer(appPath, exported, parents);
  result.appFiles = scan(join(appPath, 'Files'));

  trace('destroy');
  await storage.destroyScratchLayer(dir);
  result.dirExistsAfterDestroy = existsSync(dir);
  await storage.destroyLayer(appPath);
  await storage.destroyLayer(basePath);
  await storage.destroyLayer(basePath); // already gone: not an error
  result.audits.end = storageSim({ Op: 'Audit' });
  result.layersLeft = scan(join(work, 'layers'));
  return result;
});
