import { mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { Sandbox } from '../../../src/sandbox/index.js';
import { rejectionOf } from '../../support/fake-harness.js';
import { useFakeSandboxHost, windowsPath } from '../../support/fake-sandbox-host.js';

// The schema builders take Windows host paths; the temporary home here is POSIX.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const host = useFakeSandboxHost();

/** A real folder and a symlink to it (a junction on Windows plays the same part). */
function linkedFolder(): { real: string; link: string } {
  const real = join(host.home, 'real-data');
  mkdirSync(real);
  const link = join(host.home, 'link-to-data');
  symlinkSync(real, link, 'junction');
  return { real: realpathSync(real), link };
}

async function create(extra: Record<string, unknown>): Promise<Sandbox> {
  return Sandbox.create({
    image: await host.seedImage(),
    name: 'sb1',
    home: host.home,
    network: 'none',
    scratchSizeGB: 1,
    ...extra,
  });
}

describe('mapped folders go into documents by their final path (hcsshim createMountsConfig)', () => {
  it('create: a folder given through a link is mapped (and stored) as its target', async () => {
    const { real, link } = linkedFolder();
    const sandbox = await create({ mappedFolders: [{ hostPath: link, sandboxPath: 'C:\\data' }] });
    const doc = host.hcs.fake.system(sandbox.id).configuration as {
      Container: { MappedDirectories: { HostPath: string }[] };
    };
    expect(doc.Container.MappedDirectories.map((m) => m.HostPath)).toEqual([windowsPath(real)]);
    const record = JSON.parse(readFileSync(host.recordPath('sb1'), 'utf8')).record;
    expect(record.options.mappedFolders).toEqual([
      { hostPath: real, sandboxPath: 'C:\\data', readOnly: false },
    ]);
    await sandbox.remove();
  });

  it('create: a host folder that does not exist names its field, and nothing is created', async () => {
    const missing = join(host.home, 'no-such-folder');
    const error = await rejectionOf(
      create({ mappedFolders: [{ hostPath: missing, sandboxPath: 'C:\\data' }] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ field: 'mappedFolders[0].hostPath' });
    expect(String((error as Error).message)).toContain('does not exist');
    host.expectNothingLeft('sb1');
  });

  it('folders.map: the running sandbox gets the target; a missing folder is refused', async () => {
    const { real, link } = linkedFolder();
    const sandbox = await create({});
    await sandbox.folders.map(link, 'C:\\data', { readOnly: true });
    const requests = JSON.stringify(host.hcs.fake.system(sandbox.id).modifications);
    expect(requests).toContain(JSON.stringify(windowsPath(real)).slice(1, -1));
    expect(requests).not.toContain('link-to-data');
    const error = await rejectionOf(sandbox.folders.map(join(host.home, 'gone'), 'C:\\other'));
    expect(error).toMatchObject({ name: 'InvalidArgumentError', field: 'hostPath' });
    await sandbox.remove();
  });
});
