// Refusals before any native call: not enough space, bad input.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, main, storage, storageSim } from './storage-lib.mjs';

const [work] = process.argv.slice(2);

await main(async () => {
  storageSim({ Op: 'ResetAudit' });
  const parents = [{ id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: join(work, 'layers', 'base') }];
  const dir = join(work, 'sandboxes', 'huge');
  const attempt = async (options) => {
    try {
      await storage.createScratchLayer(options);
      return { error: undefined };
    } catch (e) {
      return { error: describeError(e) };
    }
  };
  return {
    space: { ...(await attempt({ dir, sizeGB: 1024, parents })), dirExists: existsSync(dir) },
    free: await storage.freeSpace(dir),
    relative: await attempt({ dir: 'sandboxes\\rel', sizeGB: 1, parents }),
    size: await attempt({ dir, sizeGB: 0, parents }),
    badId: await attempt({ dir, sizeGB: 1, parents: [{ id: 'nope', path: parents[0].path }] }),
    audit: storageSim({ Op: 'Audit' }),
  };
});
