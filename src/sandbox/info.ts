// Modules, not the layers' index.ts: `ls` loads this file without the SDK (list.ts).
import { sandboxEndpoint } from '../network/sandbox-endpoint.js';
import { DEFAULT_OWNER } from '../schema/builders/common.js';
import { scratchSize } from '../storage/scratch-size.js';
import type { MappedFolder } from './options.js';
import type { SandboxIsolation, SandboxRecord, SandboxStatus } from './record.js';

/** What `Sandbox.info()` and `Sandbox.list()` report of a sandbox. */
export interface SandboxInfo {
  name: string;
  /** The compute system id. */
  id: string;
  status: SandboxStatus;
  isolation: SandboxIsolation;
  image: string | undefined;
  persistent: boolean;
  createdAt: string;
  memoryMB: number | undefined;
  cpus: number | undefined;
  mappedFolders: MappedFolder[];
  /** Bytes the writable layer takes on disk. */
  scratchBytes: number | undefined;
  /** `nat`, `isolated`, `internal` or `none`. */
  network: string;
  /** Published ports, `host:sandbox/protocol`. */
  ports: string[];
  /** Address on its network, when it has one (as `hcs-sandbox ip` prints it). */
  ip: string | undefined;
}

/** HCS is the truth for what runs; the record says what exists. */
export function reconcile(record: Pick<SandboxRecord, 'status'>, state: string | undefined): SandboxStatus {
  if (record.status === 'creating' || record.status === 'removing') return record.status;
  switch (state) {
    case 'Running':
      return 'running';
    case 'Paused':
      return 'paused';
    case 'Created':
      return 'created';
    case undefined:
      return record.status === 'created' ? 'created' : 'stopped';
    default:
      return 'stopped';
  }
}

/** Every Owner the records' compute systems carry, ours always among them. */
export function ownersOf(records: SandboxRecord[]): string[] {
  return [...new Set([DEFAULT_OWNER, ...records.map((r) => r.options.owner ?? DEFAULT_OWNER)])];
}

export async function infoOf(record: SandboxRecord): Promise<SandboxInfo> {
  const o = record.options;
  const network = o.network ?? 'none';
  return {
    name: record.name,
    id: record.id,
    status: record.status,
    isolation: record.isolation,
    image: record.image,
    persistent: record.persistent,
    createdAt: record.createdAt,
    memoryMB: o.memoryMB,
    cpus: o.cpus,
    mappedFolders: o.mappedFolders ?? [],
    scratchBytes: record.scratchDir ? await scratchSize(record.scratchDir).catch(() => undefined) : undefined,
    network,
    ports: (o.ports ?? []).slice(),
    ip:
      network === 'none'
        ? undefined
        : await sandboxEndpoint(record.id)
            .then((e) => e?.ipAddress)
            .catch(() => undefined),
  };
}
