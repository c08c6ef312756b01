import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InsufficientSpaceError, InvalidArgumentError, type Progress } from '../../../../src/index.js';
import {
  type BuildVmImageOptions,
  buildVmImage,
  DiskGuardError,
  readVmImageCredentials,
  VmImageBuildError,
  VmImageStore,
} from '../../../../src/storage/index.js';
import { FakeBuildHost } from './fake-build-host.js';
import { WINDOWS_11, wimFile } from './wim-fixture.js';

let dir: string;
let store: VmImageStore;
let host: FakeBuildHost;
let wim: string;
let agent: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vm-build-'));
  store = new VmImageStore({ root: join(dir, 'store') });
  host = new FakeBuildHost();
  wim = join(dir, 'install.wim');
  await writeFile(wim, wimFile(WINDOWS_11));
  agent = join(dir, 'agent.exe');
  await writeFile(agent, 'MZ agent');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The test's build; an `undefined` in `extra` removes that option (as a caller leaving it out). */
const build = (extra: { [K in keyof BuildVmImageOptions]?: BuildVmImageOptions[K] | undefined } = {}) => {
  const options: Record<string, unknown> = {
    name: 'win11',
    wim,
    edition: 'Professional',
    store,
    host,
    stage: [{ from: agent, to: 'agent.exe' }],
    ...extra,
  };
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  return buildVmImage(options as unknown as BuildVmImageOptions);
};

/** Each recorded step, and what makes the fake host fail it once. */
const FAILURES: [string, string][] = [
  ['protect-credentials', 'icacls.exe'],
  ['create-disk', 'create-disk'],
  ['attach-disk', 'attach-disk'],
  ['partition', 'diskpart partition.txt'],
  ['mount-volumes', 'diskpart mount.txt'],
  ['apply-image', 'dism.exe'],
  ['bcdboot', 'bcdboot.exe'],
  ['write-unattend', 'write unattend.xml'],
  ['write-setupcomplete', 'write SetupComplete.cmd'],
  ['stage-agent', 'copy'],
  ['unmount-volumes', 'diskpart unmount.txt'],
  ['detach-disk', 'detach-disk'],
];
/** Every step in plan order (assert-bcd has no fail-once switch: its own test is below). */
const ORDER = FAILURES.map(([step]) => step);
ORDER.splice(ORDER.indexOf('bcdboot') + 1, 0, 'assert-bcd');
const SESSION = ['attach-disk', 'mount-volumes', 'unmount-volumes'];
const RECORDED = ORDER.filter((s) => !SESSION.includes(s));

describe('buildVmImage and the guest agent', () => {
  it('records the agent it staged', async () => {
    const image = await build();
    expect(image.agent).toMatchObject({ from: agent });
    expect(image.agent?.stagedBy).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("stages the package's agent by default (from agentDir), and records it", async () => {
    const packaged = join(dir, 'packaged');
    await mkdir(packaged);
    await writeFile(join(packaged, 'agent.exe'), 'MZ packaged');
    await writeFile(join(packaged, 'hvsock-relay.exe'), 'MZ relay');
    const image = await build({ stage: undefined, agentDir: packaged });
    expect(image.agent?.from).toBe(join(packaged, 'agent.exe'));
    const staged = [...host.files.keys()].find((f) => f.endsWith('\\hcs-sandbox\\agent\\agent.exe'));
    expect(staged).toBeDefined();
  });

  it('refuses before anything is built when this copy has no agent to stage', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expect(build({ stage: undefined, agentDir: empty })).rejects.toMatchObject({
      name: 'AgentBinariesMissingError',
      code: 'AGENT_BINARIES_MISSING',
      kind: 'unavailable',
    });
    expect(host.log).toEqual([]);
    expect(await store.get('win11')).toBeUndefined();
  });

  it('builds without one when asked (agent: false): no agent in the record or SetupComplete', async () => {
    const image = await build({ stage: undefined, agent: false, agentDir: join(dir, 'nowhere') });
    expect(image.agent).toBeUndefined();
    const setup = [...host.files.entries()].find(([f]) => f.endsWith('SetupComplete.cmd'))?.[1];
    expect(setup).toMatch(/No agent\.exe was staged/);
  });
});

describe('buildVmImage', () => {
  it('runs the plan in order and finishes a ready image with the WIM facts', async () => {
    const progress: Progress[] = [];
    const image = await build({ onProgress: (p) => progress.push(p) });
    expect(image).toMatchObject({
      name: 'win11',
      status: 'ready',
      build: 26100,
      edition: 'Professional',
      displayName: 'Windows 11 Pro',
      source: { kind: 'wim', path: wim, index: 2 },
      stepsDone: RECORDED,
      sizeBytes: 40 * 2 ** 30 + 4 * 2 ** 20,
    });
    expect(host.log.filter((l) => !l.startsWith('write'))).toEqual([
      'run icacls.exe',
      'create-disk',
      'attach-disk',
      'run diskpart partition.txt',
      'run diskpart mount.txt',
      'run dism.exe',
      'run bcdboot.exe',
      'run diskpart unmount.txt',
      'detach-disk',
    ]);
    expect(host.attached).toBe(false);
    const dism = host.commands.find((c) => c[0]!.endsWith('Dism.exe'))!;
    expect(dism).toContain('/Index:2');
    expect(dism).toContain(`/ImageFile:${wim}`);
    const files = [...host.files.keys()];
    const unattend = host.files.get(files.find((f) => f.endsWith('\\Windows\\Panther\\unattend.xml'))!)!;
    const credentials = await readVmImageCredentials('win11', store);
    expect(credentials?.userName).toBe('sandbox');
    expect(credentials?.password).toMatch(/^.{20}$/);
    expect(unattend).toContain(`<Value>${credentials!.password.replace(/&/g, '&amp;')}</Value>`);
    expect(files.some((f) => f.endsWith('\\Program Files\\hcs-sandbox\\agent\\agent.exe'))).toBe(true);
    expect(progress.map((p) => p.phase)).toEqual([...ORDER, 'ready']);
    expect(progress.every((p) => p.item === 'win11' && p.total === ORDER.length)).toBe(true);
    expect(progress.at(-1)!.done).toBe(ORDER.length);
  });

  it.each(FAILURES)('resumes after a failure at %s without redoing finished steps', async (step, failAt) => {
    host.failAt = failAt;
    const error = await build().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VmImageBuildError);
    expect((error as VmImageBuildError).step).toBe(step);
    expect((error as Error).message).toMatch(/resume from this step.*vm image rm win11/);
    const interrupted = await store.get('win11');
    expect(interrupted?.status).toBe('building');
    expect(interrupted?.stepsDone).toEqual(RECORDED.filter((s) => ORDER.indexOf(s) < ORDER.indexOf(step)));
    expect(host.attached).toBe(false);
    const password = (await readVmImageCredentials('win11', store))!.password;

    host.log.length = 0;
    const image = await build();
    expect(image.status).toBe('ready');
    expect(image.stepsDone).toEqual(RECORDED);
    // The finished steps were not run again; the disk was attached (and mounted) again first.
    for (const done of interrupted!.stepsDone) {
      const marker = FAILURES.find(([s]) => s === done)?.[1];
      if (marker) expect(host.log.filter((l) => l === marker || l === `run ${marker}`)).toEqual([]);
    }
    if (interrupted!.stepsDone.includes('create-disk')) expect(host.log[0]).toBe('attach-disk');
    expect((await readVmImageCredentials('win11', store))!.password).toBe(password);
  });

  it('fails at assert-bcd when bcdboot writes no BCD store', async () => {
    host.bcdbootWrites = false;
    const error = await build().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VmImageBuildError);
    expect((error as Error).message).toMatch(/assert-bcd.*BCD is missing/);
  });

  it('refuses to partition a disk that is not the one it created, and writes nothing to it', async () => {
    host.failAt = 'attach-disk';
    await build().catch(() => {});
    host.diskSizes.set(3, 512 * 2 ** 30); // disk 3 is now some other disk
    const error = await build().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskGuardError);
    expect((error as DiskGuardError).step).toBe('partition');
    expect(host.commands.some((c) => c[0]!.endsWith('diskpart.exe'))).toBe(false);
    expect((await store.get('win11'))?.status).toBe('building');
  });

  it.each([
    [
      'a WIM that does not exist',
      () => build({ wim: join(dir, 'nope.wim') }),
      InvalidArgumentError,
      /Invalid wim: expected an existing WIM/,
    ],
    ['both --iso and --wim', () => build({ iso: wim }), InvalidArgumentError, /exactly one of --iso/],
    ['a size below 16 GB', () => build({ sizeGB: 8 }), InvalidArgumentError, /Invalid sizeGB/],
    [
      'several images and no choice',
      () => build({ edition: undefined }),
      InvalidArgumentError,
      /1: Windows 11 Home \(Core\); 2: Windows 11 Pro/,
    ],
    ['a bad image name', () => build({ name: '../x' }), InvalidArgumentError, /Invalid name/],
    [
      'a staged file outside the agent folder',
      () => build({ stage: [{ from: agent, to: '../x.exe' }] }),
      InvalidArgumentError,
      /stage\[0\]\.to/,
    ],
    ['a user name with markup', () => build({ userName: '<x>' }), InvalidArgumentError, /userName/],
  ])('refuses %s before touching the host', async (_, run, type, message) => {
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect(host.log).toEqual([]);
    expect(await store.get('win11')).toBeUndefined();
  });

  it('refuses without elevation or free space, before any record', async () => {
    host.elevated = false;
    await expect(build()).rejects.toThrow(/not elevated/);
    host.elevated = true;
    host.freeBytes = 2 ** 30;
    await expect(build()).rejects.toBeInstanceOf(InsufficientSpaceError);
    expect(await store.get('win11')).toBeUndefined();
  });

  it('builds from an ISO: mounts it, applies sources\\install.esd, dismounts it', async () => {
    const iso = join(dir, 'win.iso');
    await writeFile(iso, 'iso');
    host.isoRoot = join(dir, 'mounted');
    await mkdir(join(host.isoRoot, 'sources'), { recursive: true });
    await writeFile(join(host.isoRoot, 'sources', 'install.esd'), wimFile(WINDOWS_11));
    const image = await build({ wim: undefined, iso, index: 1 });
    expect(image).toMatchObject({
      status: 'ready',
      edition: 'Core',
      source: { kind: 'iso', path: iso, index: 1 },
    });
    expect(host.log[0]).toBe(`mount-iso ${iso}`);
    expect(host.log.at(-1)).toBe('dismount-iso');
    const dism = host.commands.find((c) => c[0]!.endsWith('Dism.exe'))!;
    expect(dism).toContain(`/ImageFile:${join(host.isoRoot, 'sources', 'install.esd')}`);
  });

  it('refuses an ISO without an install image, and dismounts it', async () => {
    const iso = join(dir, 'win.iso');
    await writeFile(iso, 'iso');
    host.isoRoot = join(dir, 'empty');
    await mkdir(host.isoRoot);
    await expect(build({ wim: undefined, iso })).rejects.toThrow(
      /sources\\install\.wim or sources\\install\.esd/,
    );
    expect(host.log).toEqual([`mount-iso ${iso}`, 'dismount-iso']);
  });

  it('keeps the credentials beside the record, not in it', async () => {
    const image = await build({ userName: 'alice', password: 's3cret!' });
    expect(JSON.stringify(image)).not.toContain('s3cret');
    const text = await readFile(join(store.pathsOf('win11').dir, 'credentials.json'), 'utf8');
    expect(JSON.parse(text)).toEqual({ userName: 'alice', password: 's3cret!' });
  });
});
