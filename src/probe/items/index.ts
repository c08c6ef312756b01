import type { ProbeItem } from '../types.js';
import { hcsItems } from './hcs.js';
import { jobItems } from './jobs.js';
import { layerItems } from './layers.js';
import { networkItems } from './network.js';
import { sandboxItems } from './sandbox.js';
import { storeItems } from './store.js';
import { vmBootItem } from './vm-boot.js';
import { vmImageBuildItem, vmImageIsoItem } from './vm-image.js';

/**
 * Every probe item, in the order they run: the ones that need nothing first,
 * then storage, network and jobs, then the ones that need an image, then
 * the VM items (each runs only when its HCS_PROBE_* variable names media or a
 * VM image: docs/probe.md).
 */
export const probeItems: readonly ProbeItem[] = [
  ...hcsItems,
  ...storeItems,
  ...layerItems,
  ...networkItems,
  ...jobItems,
  ...sandboxItems,
  vmImageIsoItem(),
  vmImageBuildItem(),
  vmBootItem(),
];
