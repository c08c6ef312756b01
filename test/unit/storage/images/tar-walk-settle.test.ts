import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HcsSandboxError } from '../../../../src/internal/errors.js';
import { walkTar } from '../../../../src/storage/images/tar-walk.js';
import { makeTar } from '../../../support/registry/push.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('walkTar on a cut-short archive', () => {
  it('settles only after the consumer of the cut entry has settled, so clean-up never races a write', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tar-settle-'));
    const tar = await makeTar([{ name: 'Files/big.bin', content: Buffer.alloc(256 * 1024, 7) }]);
    const path = join(dir, 'cut.tar');
    await writeFile(path, tar.subarray(0, 512 + 100 * 1024)); // the header and part of the body
    let consumerSettled = false;
    const walked = walkTar(
      path,
      { gzip: false, formatError: (detail, cause) => new HcsSandboxError('TEST_FORMAT', detail, { cause }) },
      async (entry) => {
        try {
          for await (const _chunk of entry) await sleep(1); // a slow writer
        } catch {
          // the cut entry's stream is destroyed: the consumer sees it and stops
        } finally {
          await sleep(50); // closing its file takes a moment
          consumerSettled = true;
        }
      },
    );
    await expect(walked).rejects.toBeInstanceOf(HcsSandboxError);
    expect(consumerSettled).toBe(true);
  });
});
