import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildVmImage, restageVmImageAgent, VmImageStore } from '../../../../src/storage/index.js';
import { FakeBuildHost } from './fake-build-host.js';
import { WINDOWS_11, wimFile } from './wim-fixture.js';

/** `vm image build --agent-only`: the agent written into a ready image again, nothing else. */
let dir: string;
let store: VmImageStore;
let host: FakeBuildHost;
let agentDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vm-agent-refresh-'));
  store = new VmImageStore({ root: join(dir, 'store') });
  host = new FakeBuildHost();
  const wim = join(dir, 'install.wim');
  await writeFile(wim, wimFile(WINDOWS_11));
  await buildVmImage({ name: 'win11', wim, edition: 'Professional', store, host, agent: false });
  agentDir = join(dir, 'new-agent');
  await mkdir(agentDir);
  await writeFile(join(agentDir, 'agent.exe'), 'MZ new agent');
  await writeFile(join(agentDir, 'hvsock-relay.exe'), 'MZ relay');
  host.log.length = 0;
  host.commands.length = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('restageVmImageAgent', () => {
  it('attaches, mounts, writes SetupComplete and the agent, unmounts, detaches; the record names the agent', async () => {
    expect((await store.require('win11')).agent).toBeUndefined();
    const image = await restageVmImageAgent('win11', { store, host, agentDir });
    expect(host.log.filter((l) => !l.startsWith('write'))).toEqual([
      'attach-disk',
      'run diskpart mount.txt',
      'run diskpart unmount.txt',
      'detach-disk',
    ]);
    expect(host.commands.some((c) => /dism|bcdboot|icacls/i.test(c[0] ?? ''))).toBe(false);
    const setup = [...host.files.entries()]
      .filter(([f]) => f.endsWith('SetupComplete.cmd'))
      .map(([, t]) => t);
    expect(setup.at(-1)).toContain('agent.exe" --install');
    const staged = [...host.files.entries()].find(([f]) => f.endsWith('\\hcs-sandbox\\agent\\agent.exe'));
    expect(staged?.[1]).toBe('MZ new agent');
    expect(image.agent?.from).toBe(join(agentDir, 'agent.exe'));
    expect(host.attached).toBe(false);
  });

  it('detaches the disk when a step fails, and says which', async () => {
    host.failAt = 'copy';
    await expect(restageVmImageAgent('win11', { store, host, agentDir })).rejects.toMatchObject({
      name: 'VmImageBuildError',
      step: 'stage-agent',
    });
    expect(host.attached).toBe(false);
    expect((await store.require('win11')).agent).toBeUndefined();
  });

  it('refuses an image that is not ready, and a name that is none, before touching the host', async () => {
    await store.begin('half', { kind: 'wim', path: 'C:\\x.wim', index: 1 });
    await expect(restageVmImageAgent('half', { store, host, agentDir })).rejects.toMatchObject({
      name: 'VmImageNotFoundError',
      message: expect.stringContaining('has not finished'),
    });
    await expect(restageVmImageAgent('Bad Name', { store, host, agentDir })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
    expect(host.log).toEqual([]);
  });
});
