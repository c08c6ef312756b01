import type { ProbeItem } from '../types.js';
import { hcsItems } from './hcs.js';
import { jobItems } from './jobs.js';
import { layerItems } from './layers.js';
import { networkItems } from './network.js';
import { sandboxItems } from './sandbox.js';

/**
 * Every probe item, in the order they run: the ones that need nothing first,
 * then storage, network and jobs, then the ones that need an image.
 */
export const probeItems: readonly ProbeItem[] = [
  ...hcsItems,
  ...layerItems,
  ...networkItems,
  ...jobItems,
  ...sandboxItems,
];
