import { HcnClient } from './client.js';
import type { PortProbe } from './port-check.js';

export interface NetworkDeps {
  client?: HcnClient;
  /** Host port probe (tests replace it). */
  probe?: PortProbe;
  /** The host's own IPv4 addresses (isolated blocks them); default from os.networkInterfaces(). */
  hostAddresses?: readonly string[];
}

/** The HCN client of `deps`, or one over the real bindings. */
export function client(deps: NetworkDeps | undefined): HcnClient {
  return deps?.client ?? new HcnClient();
}
