// Writes an import source folder in the layer transport format the simulated
// HcsImportLayer demands (test-host/sim/transport.c), with the product's own
// writer: `files` maps a layer-relative path (forward slashes, e.g.
// 'Files/hello.txt', 'UtilityVM/SystemTemplate.vhdx') to its content; folders
// are implied. Every layer gets the five hive deltas and tombstones.txt.
import { Readable } from 'node:stream';

const { TransportLayerWriter, HIVE_DELTAS } = await import(
  '../../../dist/storage/images/transport-writer.js'
);

export async function writeTransportLayer(dir, files, folders = []) {
  const w = new TransportLayerWriter(dir);
  await w.directory(['Files']);
  await w.directory(['Hives']);
  for (const f of folders) await w.directory(f.split('/'));
  const all = { ...Object.fromEntries(HIVE_DELTAS.map((h) => [`Hives/${h}`, `delta ${h}`])), ...files };
  for (const [path, content] of Object.entries(all)) {
    const data = Buffer.from(content);
    await w.file(path.split('/'), { attributes: 0x20 }, Readable.from([data]), data.length);
  }
  return w.finish();
}
