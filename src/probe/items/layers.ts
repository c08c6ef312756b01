import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { hresultName } from '../../hcs/index.js';
import { hostFacts } from '../../native/index.js';
import * as storage from '../../storage/index.js';
import { fail, type ProbeContext, type ProbeItem, pass } from '../types.js';
import { anyImage, needsElevation } from './images.js';

/** hcsshim issue #1072 quotes `NameToGuid("4")` as this GUID. */
const ISSUE_1072 = { name: '4', guid: 'bd9c3ef9-f239-59b5-a27e-15c523b1d149' };

/**
 * The base-layer setup the product may export (issue 12, item 4). Looked up by
 * name so this probe runs on trees with and without it.
 */
/** Creates, mounts and registers the undo of a 1 GiB scratch layer over `image`'s layers. */
async function scratchOver(ctx: ProbeContext, name: string, parents: storage.LayerRef[]) {
  const dir = join(ctx.workDir, name);
  ctx.defer(`destroy scratch ${dir}`, () => storage.destroyScratchLayer(dir));
  const layer = await storage.createScratchLayer({ dir, sizeGB: 1, parents }, { signal: ctx.signal });
  ctx.defer(`unmount scratch ${dir}`, () =>
    storage.mountedScratchLayers().some((l) => l.dir === dir)
      ? storage.unmountScratchLayer(layer)
      : undefined,
  );
  return layer;
}

export const layerItems: ProbeItem[] = [
  {
    id: 'layers.name-to-guid',
    title: 'vmcompute.dll!NameToGuid compared with our layer ids',
    rows: ['14'],
    async run() {
      const names = [ISSUE_1072.name, 'probe-layer', 'A1B2C3'];
      const results = [];
      for (const name of names) {
        const { hr, guid } = await hostFacts().nameToGuid(name);
        if (hr < 0) return fail(`NameToGuid(${JSON.stringify(name)}) returned ${hresultName(hr)}`, { hr });
        results.push({ name, nameToGuid: guid, ours: storage.layerIdFromFolderName(name) });
      }
      const equal = results.every((r) => r.nameToGuid === r.ours);
      const matchesIssue1072 = results[0]?.nameToGuid === ISSUE_1072.guid;
      return pass(
        `the call works; our ids ${equal ? 'equal' : 'differ from'} NameToGuid (only consistency is needed)`,
        { results, oursEqualsNameToGuid: equal, matchesHcsshimIssue1072: matchesIssue1072 },
      );
    },
  },
  {
    id: 'layers.storage-sequence',
    title:
      'scratch over a base layer: create, format, attach, mount path, initialize, filter, detach, destroy',
    rows: ['15', '16', '17', 'A8', 'A9'],
    timeoutMs: 180_000,
    async run(ctx) {
      needsElevation(ctx);
      const image = await anyImage(ctx);
      const layer = await scratchOver(ctx, 'scratch', image.layers);
      const details: Record<string, unknown> = {
        image: image.reference,
        volumePath: layer.volumePath,
        trailingBackslash: layer.volumePath.endsWith('\\'),
        volumeExists: existsSync(layer.volumePath),
      };
      // What `docker cp` relies on: files written to the mounted volume are the sandbox's C:\.
      const file = join(layer.volumePath, 'hcs-sandbox-probe.txt');
      await writeFile(file, 'probe');
      details.fileRoundTrip = (await readFile(file, 'utf8')) === 'probe';
      const started = performance.now();
      await storage.unmountScratchLayer(layer);
      details.unmountMs = Math.round(performance.now() - started);
      await storage.destroyScratchLayer(layer.dir);
      details.folderGoneAfterDestroy = !existsSync(layer.dir);
      if (!details.fileRoundTrip)
        return fail('a file written to the mounted volume did not read back', details);
      if (!details.folderGoneAfterDestroy)
        return fail('destroy reported success but the folder is still there', details);
      return pass('every step succeeded and the folder is gone', details);
    },
  },
  {
    id: 'layers.import-round-trip',
    title: 'export a writable layer and import it again (HcsExportLayer, HcsImportLayer, HcsDestroyLayer)',
    rows: ['18', 'A1', 'A3', 'A9'],
    timeoutMs: 300_000,
    async run(ctx) {
      needsElevation(ctx);
      const image = await anyImage(ctx);
      const layer = await scratchOver(ctx, 'export-scratch', image.layers);
      await mkdir(join(layer.volumePath, 'probe'), { recursive: true });
      await writeFile(join(layer.volumePath, 'probe', 'a.txt'), 'round trip');
      const exported = join(ctx.workDir, 'exported');
      ctx.defer(`destroy ${exported}`, () => storage.destroyLayer(exported));
      await storage.exportLayer(layer.volumePath, exported, [...layer.parents], { writable: true });
      const imported = join(ctx.workDir, 'imported');
      ctx.defer(`destroy ${imported}`, () => storage.destroyLayer(imported));
      await storage.importLayer(imported, exported, [...layer.parents]);
      const copy = join(imported, 'Files', 'probe', 'a.txt');
      const details: Record<string, unknown> = {
        image: image.reference,
        exportedEntries: existsSync(join(exported, 'Files')),
        importedFile: existsSync(copy),
      };
      await storage.destroyLayer(imported);
      details.importedGoneAfterDestroy = !existsSync(imported);
      if (!details.importedFile) return fail(`the imported layer has no ${copy}`, details);
      if (!details.importedGoneAfterDestroy) return fail('HcsDestroyLayer left the folder behind', details);
      return pass('the file written in the scratch layer came back through export and import', details);
    },
  },
  {
    id: 'layers.base-layer-files',
    title: "the image's base layer was set up (blank-base.vhdx, blank.vhdx; UtilityVM templates)",
    rows: ['A4'],
    async run(ctx) {
      const image = await anyImage(ctx);
      const base = image.layers.at(-1)!.path;
      const has = (p: string) => existsSync(join(base, p));
      const details = {
        image: image.reference,
        base,
        'blank-base.vhdx': has('blank-base.vhdx'),
        'blank.vhdx': has('blank.vhdx'),
        utilityVm: has('UtilityVM\\Files'),
        'UtilityVM\\SystemTemplate.vhdx': has('UtilityVM\\SystemTemplate.vhdx'),
        source: image.source,
      };
      const container = details['blank-base.vhdx'] && details['blank.vhdx'];
      const vm = !details.utilityVm || details['UtilityVM\\SystemTemplate.vhdx'];
      if (container && vm) return pass('the base layer carries its processed disks', details);
      return fail('the base layer was never processed (HcsSetupBaseOSLayer)', details);
    },
  },
  {
    id: 'layers.base-layer-setup',
    title: 'HcsSetupBaseOSLayer on a tiny imported base layer',
    rows: ['A4'],
    timeoutMs: 180_000,
    async run(ctx) {
      needsElevation(ctx);
      // The tiny base goes through the same transport writer a pull uses, since
      // HcsImportLayer takes nothing else (A1), then through the same setup (A4).
      const source = join(ctx.workDir, 'tiny-base-src');
      await mkdir(source, { recursive: true });
      const writer = new storage.TransportLayerWriter(source, { name: 'probe tiny base' });
      await writer.directory(['Files']);
      await writer.directory(['Files', 'Windows']);
      await writer.directory(['Hives']);
      const entries: [string[], Buffer][] = [
        [['Files', 'probe.txt'], Buffer.from('tiny base')],
        ...storage.HIVE_DELTAS.map((h): [string[], Buffer] => [['Hives', h], Buffer.from(`probe ${h}`)]),
      ];
      for (const [segments, data] of entries) {
        await writer.file(segments, { attributes: 0x20 }, Readable.from([data]), data.length);
      }
      await writer.finish();
      const layer = join(ctx.workDir, 'tiny-base');
      ctx.defer(`destroy ${layer}`, () => storage.destroyLayer(layer));
      await storage.importLayer(layer, source, []);
      await storage.setupBaseLayer(layer);
      const details = {
        'blank-base.vhdx': existsSync(join(layer, 'blank-base.vhdx')),
        'blank.vhdx': existsSync(join(layer, 'blank.vhdx')),
      };
      return details['blank-base.vhdx'] && details['blank.vhdx']
        ? pass('setup made the container template disks', details)
        : fail('setup returned but made no template disks', details);
    },
  },
];
