import { dirname } from 'node:path';
import { InvalidArgumentError } from '../../internal/errors.js';
import { checkVmImageName, VmImageNotFoundError, VmImageStore } from '../../storage/index.js';
import type { ResolvedImage } from './driver.js';

/**
 * Which VM image a `vm` sandbox boots: the ready image of the VM image store
 * (src/storage/vm-images) that `reference` names, or, when the options name
 * none, the one ready image there is. Its base disk is taken from where the
 * store keeps it (`pathsOf`), never from the record's own field, so a hand-made
 * record cannot make a sandbox difference over (and grant a VM) another file.
 */
export async function resolveVmImage(
  reference: string | undefined,
  home: string | undefined,
): Promise<ResolvedImage> {
  const store = new VmImageStore(home === undefined ? {} : { root: home });
  if (reference !== undefined) checkImageName(reference);
  const name = reference ?? (await onlyReadyImage(store));
  const record = await store.require(name);
  return {
    reference: record.name,
    layers: [],
    ...(record.build !== undefined && { build: record.build }),
    baseDisk: store.pathsOf(record.name).vhdx,
  };
}

/** A VM image is named as the store names it, not like a container image (`registry/repo:tag`). */
function checkImageName(reference: string): void {
  try {
    checkVmImageName('image', reference);
  } catch {
    throw new InvalidArgumentError(
      'image',
      'the name of a VM image (lowercase letters, digits, ".", "_", "-"; see `hcs-sandbox vm image ls`)',
      reference,
      'vm isolation boots a VM image built with `hcs-sandbox vm image build`, not a container image',
    );
  }
}

/** The single ready VM image, or a clear error saying to name one or build one. */
async function onlyReadyImage(store: VmImageStore): Promise<string> {
  const ready = (await store.list()).images.filter((i) => i.status === 'ready').map((i) => i.name);
  if (ready.length === 1) return ready[0] as string;
  if (ready.length === 0) {
    throw new VmImageNotFoundError(
      '(none named)',
      'a vm sandbox boots a VM image, and there is none ready: build one with `hcs-sandbox vm image build --iso <file>` (see `hcs-sandbox vm image ls`)',
    );
  }
  throw new InvalidArgumentError(
    'image',
    `one of the VM images ${ready.map((n) => JSON.stringify(n)).join(', ')} (there are several: name one)`,
    undefined,
  );
}

/**
 * The store root a sandbox's scratch folder lives in: `<root>\scratch\<name>`
 * as the state store checked it (`StateStore.scratchDirOf`), so exact.
 */
export function storeRootOf(scratchDir: string): string {
  return dirname(dirname(scratchDir));
}

/**
 * The base disk of the VM image a sandbox record names, where the store under
 * `root` keeps it, or undefined when the record's image is not a VM image name.
 */
export function baseDiskOf(imageName: string | undefined, root: string): string | undefined {
  if (imageName === undefined) return undefined;
  try {
    return new VmImageStore({ root }).pathsOf(imageName).vhdx;
  } catch (error) {
    if (error instanceof InvalidArgumentError) return undefined;
    throw error;
  }
}

/** Whether the VM image a sandbox record names carries the guest agent (an unreadable or removed image: no). */
export async function imageHasAgent(imageName: string | undefined, root: string): Promise<boolean> {
  if (imageName === undefined) return false;
  try {
    return (await new VmImageStore({ root }).get(imageName))?.agent !== undefined;
  } catch {
    return false;
  }
}
