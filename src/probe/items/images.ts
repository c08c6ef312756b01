import { defaultSources, type ImageRecord, listImages } from '../../storage/index.js';
import { type ProbeContext, skip } from '../types.js';

const found = new WeakMap<ProbeContext['host'], Promise<ImageRecord[]>>();

/**
 * The images in the local stores (hcs-sandbox's own, Docker's, containerd's),
 * read once per run. The Windows Sandbox base image is left out: its layers
 * are not a container base layer.
 */
export function localImages(ctx: ProbeContext): Promise<ImageRecord[]> {
  let images = found.get(ctx.host);
  if (!images) {
    const own = ctx.home === undefined ? {} : { own: { root: ctx.home } };
    images = listImages({ sources: defaultSources({ ...own, exclude: ['host'] }), onSourceError: () => {} });
    found.set(ctx.host, images);
  }
  return images;
}

/** Any image with layers (for storage steps, which do not run the image), or a skip. */
export async function anyImage(ctx: ProbeContext): Promise<ImageRecord> {
  const images = (await localImages(ctx)).filter((i) => i.layers.length > 0);
  const sameBuild = images.find((i) => i.build === ctx.host.build);
  return (
    sameBuild ??
    images[0] ??
    skip(
      'no container image in the local stores: hcs-sandbox image pull mcr.microsoft.com/windows/nanoserver:<tag for this build>',
    )
  );
}

/** An image this host can run with process isolation (same build), or a skip. */
export async function runnableImage(ctx: ProbeContext): Promise<ImageRecord> {
  const images = await localImages(ctx);
  return (
    images.find((i) => i.build === ctx.host.build && i.layers.length > 0) ??
    skip(
      `no image for build ${ctx.host.build} in the local stores (process isolation needs the host's build): ` +
        'pull the Nano Server image for this build',
    )
  );
}

/** Skips unless the process is elevated (storage calls need an enabled Administrators SID). */
export function needsElevation(ctx: ProbeContext): void {
  if (ctx.host.elevated === false)
    skip('needs an elevated shell (storage and layer calls need Administrators)');
}
