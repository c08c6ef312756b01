import type { Sandbox, SandboxOptions } from '../../index.js';
import { type Io, UsageError } from '../command.js';
import { stepReporter } from '../progress.js';
import { pullWithProgress } from '../pull.js';
import { sdk } from '../sdk.js';
import type { PullPolicy } from './sandbox-spec.js';

/** How a create reports, and whether it may pull the image first. */
export interface CreateMode {
  quiet: boolean;
  verbose?: boolean;
  /** Default `missing`: pull when no source has the image, as `docker run` does. */
  pull?: PullPolicy;
}

/**
 * Creates the sandbox, then (with `start`) starts it, reporting both steps; a
 * sandbox this call created is removed again if it cannot start. The image is
 * pulled first with `pull: 'always'`, or when missing with `pull: 'missing'`.
 */
export async function createWithProgress(
  io: Io,
  options: SandboxOptions,
  mode: CreateMode,
): Promise<Sandbox> {
  const pull = mode.pull ?? 'missing';
  const image = options.image as string;
  if (options.isolation === 'vm' && pull === 'always')
    throw new UsageError(
      '--pull is for container images: a VM image is built with `hcs-sandbox vm image build`',
    );
  if (pull === 'always') await pullWithProgress(io, image, { silent: mode.quiet });
  let sandbox: Sandbox;
  try {
    sandbox = await createAndStart(io, options, mode);
  } catch (error) {
    if (!(error instanceof sdk().ImageNotFoundError) || pull === 'always') throw error;
    if (pull === 'never') {
      throw new (sdk().NotFoundError)(
        'IMAGE_NOT_FOUND',
        `No image ${image}; pull it with: hcs-sandbox image pull ${image}`,
        {
          cause: error,
        },
      );
    }
    if (!mode.quiet) io.err(`Unable to find image '${image}' locally; pulling it\n`);
    await pullWithProgress(io, image, { silent: mode.quiet });
    sandbox = await createAndStart(io, options, mode);
  }
  return sandbox;
}

async function createAndStart(io: Io, options: SandboxOptions, mode: CreateMode): Promise<Sandbox> {
  const progress = stepReporter(io, { tty: Boolean(process.stderr.isTTY), ...mode }, options.name);
  try {
    const sandbox = await sdk().Sandbox.create(
      { ...options, start: false },
      { onProgress: progress.onProgress },
    );
    if (options.start === false) return sandbox;
    progress.step(`starting ${sandbox.name}`);
    try {
      await sandbox.start();
    } catch (error) {
      await sandbox.remove().catch(() => undefined);
      throw error;
    }
    return sandbox;
  } finally {
    progress.stop();
  }
}
