// Writes a tiny Windows-format image as an OCI layout folder, for `npm run try`
// on the simulated host: one layer with Files\ and Hives\ (nothing bootable;
// the simulated host runs commands with the host's Wine). Usage:
//   node scripts/demo-image.mjs <folder> <os.version>
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tarStream from 'tar-stream';

const [out, osVersion = '10.0.18362.1'] = process.argv.slice(2);
if (!out) throw new Error('usage: node scripts/demo-image.mjs <folder> [os.version]');

const sha256 = (data) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function layerTar() {
  const pack = tarStream.pack();
  const chunks = [];
  pack.on('data', (c) => chunks.push(c));
  const ended = new Promise((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const mtime = new Date(1_700_000_000_000);
  const add = (name, content) =>
    new Promise((resolve, reject) =>
      pack.entry(
        content === undefined
          ? { name, type: 'directory', mode: 0o755, mtime }
          : { name, type: 'file', mode: 0o644, mtime, size: Buffer.byteLength(content) },
        content,
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  await add('Files');
  await add('Files/Windows');
  await add('Files/hello.txt', 'hello from the demo image\r\n');
  await add('Hives');
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const blobs = join(out, 'blobs', 'sha256');
mkdirSync(blobs, { recursive: true });
const put = (data) => {
  const digest = sha256(data);
  writeFileSync(join(blobs, digest.slice(7)), data);
  return { digest, size: data.length };
};
const layer = await layerTar();
const layerRef = put(layer);
const config = put(
  Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'windows',
      'os.version': osVersion,
      created: '2026-01-01T00:00:00Z',
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  ),
);
const manifest = put(
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerRef }],
    }),
  ),
);
writeFileSync(join(out, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
writeFileSync(
  join(out, 'index.json'),
  JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }],
  }),
);
