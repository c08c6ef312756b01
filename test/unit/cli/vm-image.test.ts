import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execute } from '../../../src/cli/execute.js';
import { parsePlan } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';
import { VmImageInUseError } from '../../../src/index.js';
import { setPackagedAgentDir } from '../../../src/internal/packaged-agent.js';
import { StateStore } from '../../../src/sandbox/index.js';
import { setBuildHost } from '../../../src/storage/index.js';
import { FakeBuildHost } from '../storage/vm-images/fake-build-host.js';
import { WINDOWS_11, wimFile } from '../storage/vm-images/wim-fixture.js';

beforeAll(loadSdk);

let home: string;
let wim: string;
let host: FakeBuildHost;
const saved = process.env.HCS_SANDBOX_HOME;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'vm-image-cli-'));
  process.env.HCS_SANDBOX_HOME = home;
  wim = join(home, 'Win11_24H2.wim');
  await writeFile(wim, wimFile(WINDOWS_11));
  host = new FakeBuildHost();
  setBuildHost(host);
  // The agent this package would ship (dist/agent), whether or not this checkout built it.
  const agentDir = join(home, 'packaged-agent');
  await mkdir(agentDir);
  for (const exe of ['agent.exe', 'hvsock-relay.exe']) await writeFile(join(agentDir, exe), 'MZ');
  setPackagedAgentDir(`${agentDir}/`);
});
afterEach(async () => {
  setBuildHost(undefined);
  setPackagedAgentDir(undefined);
  if (saved === undefined) delete process.env.HCS_SANDBOX_HOME;
  else process.env.HCS_SANDBOX_HOME = saved;
  await rm(home, { recursive: true, force: true });
});

async function cli(...argv: string[]) {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
  };
  const code = await execute(parsePlan(argv), io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('hcs-sandbox vm image', () => {
  it('parses build flags and names the image after the media and edition by default', () => {
    expect(
      parsePlan(['vm', 'image', 'build', '--wim', wim, '--edition', 'Professional', '--size', '64']),
    ).toMatchObject({
      kind: 'vm-image-build',
      name: 'win11_24h2-professional',
      wim,
      edition: 'Professional',
      sizeGB: 64,
      stage: [],
    });
    expect(parsePlan(['vm', 'image', 'build', '--help'])).toMatchObject({ kind: 'help' });
    expect((parsePlan(['vm', 'image', 'build', '--help']) as { text: string }).text).toMatch(
      /Examples:[\s\S]*--iso/,
    );
  });

  it('builds with progress on stderr and the record as --json on stdout, then lists and removes it', async () => {
    const built = await cli(
      'vm',
      'image',
      'build',
      '--wim',
      wim,
      '--index',
      '2',
      '--name',
      'win11',
      '--json',
    );
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({
      name: 'win11',
      status: 'ready',
      build: 26100,
      edition: 'Professional',
    });
    expect(built.stderr).toMatch(/apply-image\s+win11/);
    expect(built.stderr).toMatch(/ready\s+win11/);

    const ls = await cli('vm', 'image', 'ls');
    expect(ls.stdout).toMatch(/^NAME\s+STATUS\s+BUILD\s+EDITION\s+SIZE\s+AGENT\s+CREATED/);
    expect(ls.stdout).toMatch(/win11\s+ready\s+26100\s+Professional\s+43 GB\s+\d+\.\d+\.\d+\s+\d{4}-/);
    expect(JSON.parse((await cli('vm', 'image', 'ls', '--json')).stdout)).toHaveLength(1);

    // --agent-only stages it again, and nothing else runs (no DISM, no partitioning).
    host.commands.length = 0;
    const refreshed = await cli('vm', 'image', 'build', '--agent-only', 'win11');
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toMatch(/^staged the guest agent into win11 \(from .*agent\.exe\)\n$/);
    expect(host.commands.some((c) => /dism|bcdboot/i.test(c[0] ?? ''))).toBe(false);

    expect((await cli('vm', 'image', 'rm', 'win11')).stdout).toBe('removed win11\n');
    const bare = await cli(
      'vm',
      'image',
      'build',
      '--wim',
      wim,
      '--index',
      '2',
      '--name',
      'bare',
      '--no-agent',
    );
    expect(bare.code, bare.stderr).toBe(0);
    expect((await cli('vm', 'image', 'ls')).stdout).toMatch(
      /bare\s+ready\s+26100\s+Professional\s+43 GB\s+none\s+/,
    );
    await cli('vm', 'image', 'rm', 'bare');
    expect((await cli('vm', 'image', 'ls', '--json')).stdout.trim()).toBe('[]');
  });

  it('says the step and how to resume when a build fails, and lists the image as building', async () => {
    host.failAt = 'dism.exe';
    await expect(
      cli('vm', 'image', 'build', '--wim', wim, '--index', '2', '--name', 'win11'),
    ).rejects.toThrow(/failed at step apply-image.*Run the same `hcs-sandbox vm image build` command again/);
    expect((await cli('vm', 'image', 'ls')).stdout).toMatch(/win11\s+building\s+26100/);
  });

  it('refuses to remove an image a VM sandbox uses', async () => {
    await cli('vm', 'image', 'build', '--wim', wim, '--index', '2', '--name', 'win11');
    await new StateStore({ root: home }).createRecord({
      name: 'desk1',
      id: 'hcssb-desk1',
      options: {},
      isolation: 'vm',
      image: 'win11',
      status: 'stopped',
      persistent: true,
    });
    const error = await cli('vm', 'image', 'rm', 'win11').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VmImageInUseError);
    expect((error as Error).message).toMatch(/used by sandbox desk1/);
    // Nor is its agent staged again: desk1's disk differences over the image's.
    host.log.length = 0;
    const refresh = await cli('vm', 'image', 'build', '--agent-only', 'win11').catch((e: unknown) => e);
    expect(refresh).toBeInstanceOf(VmImageInUseError);
    expect(host.log).toEqual([]);
    expect((await cli('vm', 'image', 'ls')).stdout).toMatch(/win11\s+ready/);
  });
});
