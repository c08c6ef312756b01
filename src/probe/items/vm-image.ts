import { existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { FunctionUnavailableError, HcsUnavailableError } from '../../hcs/index.js';
import { removeVmImage } from '../../sandbox/index.js';
import {
  type BuildHost,
  buildHost,
  buildVmImage,
  checkStorageLibraries,
  InsufficientSpaceError,
  readWimInfo,
  VmImageNotFoundError,
  VmImageStore,
  WimFormatError,
  type WimImage,
} from '../../storage/index.js';
import { type ProbeContext, type ProbeItem, ProbeSkip, skip } from '../types.js';
import { RowVerdicts } from './verdicts.js';
import { RecordingBuildHost, StepClock } from './vm-build-recorder.js';
import { imageBuildVerdicts, VM_IMAGE_BUILD_ROWS } from './vm-image-verdicts.js';

/** `vm image build`'s smallest disk (GiB): what the probe builds unless the WIM needs more. */
const SMALLEST_GB = 16;
const GIB = 2 ** 30;

/** Where the build host comes from (tests: a fake one), and the environment the items read. */
export interface VmImageItemDeps {
  env: () => NodeJS.ProcessEnv;
  /** The build host to watch; default the product's (Windows) one, after a virtdisk check. */
  host?: () => Promise<BuildHost>;
}

const defaults: VmImageItemDeps = { env: () => process.env };

/**
 * The smallest whole GiB (at least 16) that holds the image's applied bytes
 * with a quarter to spare for the ESP, MSR, NTFS metadata and the pagefile
 * Setup makes (an estimate: the build fails at DISM if it is short, and the
 * report says so).
 */
export function probeImageSizeGB(image: Pick<WimImage, 'sizeBytes'>): number {
  return Math.max(SMALLEST_GB, Math.ceil(((image.sizeBytes ?? 0) * 1.25) / GIB) + 1);
}

function describeImages(images: readonly WimImage[]) {
  return images.map((i) => ({
    index: i.index,
    name: i.name,
    ...(i.edition !== undefined && { edition: i.edition }),
    ...(i.build !== undefined && { build: i.build }),
    ...(i.architecture !== undefined && { architecture: i.architecture }),
    ...(i.sizeBytes !== undefined && { sizeBytes: i.sizeBytes }),
  }));
}

async function readImages(path: string, variable: string) {
  try {
    return await readWimInfo(path);
  } catch (error) {
    if (error instanceof WimFormatError) skip(`${variable}: ${error.message}`);
    throw error;
  }
}

async function watchedHost(deps: VmImageItemDeps): Promise<RecordingBuildHost> {
  if (!deps.host) {
    const virtdisk = checkStorageLibraries().find((l) => l.library === 'virtdisk.dll');
    if (!virtdisk?.ok) skip(`virtdisk.dll cannot be loaded: ${virtdisk?.error ?? 'unknown'}`);
  }
  return new RecordingBuildHost(await (deps.host ?? buildHost)());
}

function mediaFrom(ctx: ProbeContext, env: NodeJS.ProcessEnv, variable: string, what: string): string {
  const path = env[variable];
  if (!path) skip(`${variable} is not set: ${what}`);
  if (ctx.host.elevated === false)
    skip('needs an elevated shell (the build attaches, partitions and formats a VHDX)');
  if (!existsSync(path)) skip(`${variable}=${path} does not exist`);
  return path;
}

async function buildProbeImage(ctx: ProbeContext, deps: VmImageItemDeps) {
  const env = deps.env();
  const wim = mediaFrom(
    ctx,
    env,
    'HCS_PROBE_WIM',
    'name a WIM (a one-image wimcapture of a folder is enough) to build a probe image from it',
  );
  const info = await readImages(wim, 'HCS_PROBE_WIM');
  const index = env.HCS_PROBE_WIM_INDEX ? Number(env.HCS_PROBE_WIM_INDEX) : 1;
  const image = info.images.find((i) => i.index === index);
  if (!image) skip(`HCS_PROBE_WIM_INDEX=${index}: ${wim} has images 1-${info.imageCount}`);
  const host = await watchedHost(deps);
  // A store of the probe's own, in its work folder: nothing of the user's is touched, and the
  // space in its path puts Node's argv quoting of DISM's paths to the test (row VB5).
  const home = join(ctx.workDir, 'vm images');
  const store = new VmImageStore({ root: home });
  const name = `probe-${process.pid}`;
  const sizeGB = probeImageSizeGB(image);
  ctx.defer(`remove VM image ${name}`, () =>
    removeVmImage(name, { home }).catch((error: unknown) => {
      if (!(error instanceof VmImageNotFoundError)) throw error;
    }),
  );
  const clock = new StepClock();
  const details: Record<string, unknown> = {
    wim,
    images: describeImages(info.images),
    index,
    sizeGB,
    vhdxPath: store.pathsOf(name).vhdx,
  };
  let error: unknown;
  ctx.log(`building ${name} (${sizeGB} GiB) from ${wim} index ${index}`);
  try {
    await buildVmImage({ name, wim, index, sizeGB, store, host, onProgress: clock.onProgress });
  } catch (caught) {
    if (caught instanceof InsufficientSpaceError)
      skip(`not enough free space for a ${sizeGB} GiB image: ${caught.message}`);
    error = caught;
  }
  clock.end(error !== undefined);
  const built = await store.get(name).catch(() => undefined);
  details.base =
    built?.status === 'ready' ? { capacityBytes: sizeGB * GIB, fileBytes: built.sizeBytes } : undefined;
  details.bootable = image.edition !== undefined && built?.status === 'ready';
  await removeVmImage(name, { home }).catch(() => undefined);
  details.removed = !existsSync(store.pathsOf(name).dir);
  return { details, clock, host, error, sizeBytes: sizeGB * GIB };
}

/** `vm.image-build`: the product's image build on a small WIM, every step timed and the guard watched. */
export function vmImageBuildItem(deps: VmImageItemDeps = defaults): ProbeItem {
  return {
    id: 'vm.image-build',
    title: 'vm image build on HCS_PROBE_WIM: fixed VHDX, disk guard, diskpart, DISM, bcdboot, rm',
    rows: [...VM_IMAGE_BUILD_ROWS],
    timeoutMs: 60 * 60_000,
    async run(ctx) {
      const { details, clock, host, error, sizeBytes } = await buildProbeImage(ctx, deps);
      if (error instanceof HcsUnavailableError || error instanceof FunctionUnavailableError) throw error;
      details.steps = clock.steps;
      details.commands = host.commands;
      details.guard = {
        physicalPaths: [...new Set(host.physicalPaths)],
        diskSizes: host.diskSizes.slice(0, 3),
      };
      const verdicts = new RowVerdicts(VM_IMAGE_BUILD_ROWS);
      imageBuildVerdicts({ clock, host, error, sizeBytes, details }, verdicts);
      const result = verdicts.result(details, error);
      if (!details.removed)
        return { ...result, outcome: 'fail', reason: `vm image rm left its folder (${result.reason})` };
      return result;
    },
  };
}

/** `sources\install.wim`, else `sources\install.esd`, on a mounted Windows ISO. */
async function installImageOn(root: string): Promise<string | undefined> {
  for (const file of ['install.wim', 'install.esd']) {
    const path = join(root, 'sources', file);
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

/** `vm.image-iso`: mount HCS_PROBE_ISO as the build does, list its images, dismount (no build). */
export function vmImageIsoItem(deps: VmImageItemDeps = defaults): ProbeItem {
  return {
    id: 'vm.image-iso',
    title: 'HCS_PROBE_ISO mounted read-only (Mount-DiskImage), its install image listed, dismounted',
    rows: ['VB6', 'VB10'],
    timeoutMs: 300_000,
    async run(ctx) {
      const iso = mediaFrom(ctx, deps.env(), 'HCS_PROBE_ISO', 'name a Windows ISO to mount and list');
      const host = await watchedHost(deps);
      const verdicts = new RowVerdicts(['VB6', 'VB10']);
      const details: Record<string, unknown> = { iso };
      let error: unknown;
      try {
        const mounted = await host.mountIso(iso);
        ctx.defer(`dismount ${iso}`, () => (existsSync(mounted.root) ? mounted.dismount() : undefined));
        details.root = mounted.root;
        const install = await installImageOn(mounted.root);
        details.installImage = install;
        if (install) {
          try {
            details.images = describeImages((await readWimInfo(install)).images);
            const esd = install.toLowerCase().endsWith('.esd');
            if (esd) verdicts.confirm('VB10', `readWimInfo listed ${install}'s images`);
            else verdicts.notReached('VB10', 'the ISO carries install.wim, not install.esd');
          } catch (caught) {
            if (!(caught instanceof WimFormatError)) throw caught;
            verdicts.refute('VB10', caught.message);
          }
        } else verdicts.notReached('VB10', 'no sources\\install.wim or install.esd on the ISO');
        await mounted.dismount();
        details.goneAfterDismount = !existsSync(mounted.root);
        const observed = `mounted at ${mounted.root}; after Dismount-DiskImage the volume is ${details.goneAfterDismount ? 'gone' : 'still there'}`;
        if (details.goneAfterDismount) verdicts.confirm('VB6', observed);
        else verdicts.refute('VB6', observed);
      } catch (caught) {
        if (caught instanceof ProbeSkip) throw caught;
        error = caught;
      }
      return verdicts.result(details, error);
    },
  };
}
