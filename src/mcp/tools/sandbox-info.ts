import type { SandboxInfo } from '../../sandbox/info.js';
import type { McpSession } from '../session.js';

/** What the tools report of a sandbox: what a model needs to pick and use one. */
export function describeSandbox(info: SandboxInfo, session: McpSession): Record<string, unknown> {
  return {
    name: info.name,
    id: info.id,
    status: info.status,
    isolation: info.isolation,
    image: info.image ?? null,
    persistent: info.persistent,
    network: info.network,
    ip: info.ip ?? null,
    memoryMB: info.memoryMB ?? null,
    cpus: info.cpus ?? null,
    createdAt: info.createdAt,
    // Whether the end of this session removes it.
    removedWithSession: session.made(info.name) && !info.persistent,
  };
}
