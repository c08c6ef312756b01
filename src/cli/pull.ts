import { release } from 'node:os';
import type { ImageRecord } from '../index.js';
import { cliError } from './cli-error.js';
import type { Io } from './command.js';
import { progressReporter } from './progress.js';
import { isNetworkError, messageChain } from './report.js';
import { sdk } from './sdk.js';

/** The host's Windows build (`10.0.20348` → 20348). */
export function hostBuild(): number {
  return Number(release().split('.')[2] ?? 0);
}

/** The registry a reference names (`docker.io` when it names none). */
function registryOf(reference: string): string {
  try {
    return sdk().storage.parseReference(reference).domain;
  } catch {
    return reference.split('/')[0] ?? reference;
  }
}

/**
 * Pulls `reference` into hcs-sandbox's own store with `image pull`'s progress
 * (bars on a terminal, a line per phase otherwise, nothing when `silent`).
 * A registry that cannot be reached (fetch's bare `TypeError: fetch failed`)
 * becomes one line naming the registry and the cause. The SDK is loaded
 * (a verb that pulls runs with it) and reached through `sdk()`, so the
 * bundled CLI never imports it statically.
 */
export async function pullWithProgress(
  io: Io,
  reference: string,
  options: { silent: boolean; allowOlderBuild?: boolean },
): Promise<ImageRecord> {
  const { HcsSandboxError, RegistryError, storage } = sdk();
  const progress = progressReporter(io, { json: options.silent, tty: Boolean(process.stderr.isTTY) });
  try {
    const result = await storage.pullImage(reference, {
      store: new storage.OwnImageSource(),
      importLayer: storage.importLayer,
      setupBaseLayer: storage.setupBaseLayer,
      destroyLayer: storage.destroyLayer,
      hostBuild: hostBuild(),
      allowOlderBuild: options.allowOlderBuild ?? false,
      onProgress: progress.onProgress,
    });
    return result.image;
  } catch (error) {
    // The SDK wraps a network failure in a RegistryError (status 0) whose cause is fetch's error.
    const network =
      error instanceof RegistryError && error.status === 0 && isNetworkError(error.cause)
        ? error.cause
        : error;
    if (network instanceof HcsSandboxError || !isNetworkError(network)) throw error;
    const registry = registryOf(reference);
    throw cliError(
      'REGISTRY_UNREACHABLE',
      `Cannot pull ${reference}: registry ${registry}: ${messageChain(network)}`,
      { cause: error },
    );
  } finally {
    progress.stop();
  }
}
