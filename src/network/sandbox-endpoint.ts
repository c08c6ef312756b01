import { client, type NetworkDeps } from './deps.js';
import { endpointName, ownedId } from './identity.js';
import { type EndpointInfo, toEndpointInfo } from './info.js';

/**
 * A sandbox's endpoint (address, ports, network), if it has one. A module of
 * its own so that listing sandboxes (the CLI's `ls` chunk) reads an endpoint
 * without loading what creates networks and endpoints (issue 16, cold start).
 */
export async function sandboxEndpoint(
  sandboxId: string,
  deps?: NetworkDeps,
): Promise<EndpointInfo | undefined> {
  const props = await client(deps).endpoint(ownedId('endpoint', endpointName(sandboxId)));
  return props ? toEndpointInfo(props) : undefined;
}
