import { availableParallelism, release, totalmem } from 'node:os';

/** Facts about this host that options are checked against. */
export interface HostFacts {
  cpus: number;
  memoryMB: number;
  /** Windows build (`10.0.20348` → 20348); 0 when unknown (not Windows). */
  build: number;
}

export function hostFacts(): HostFacts {
  return {
    cpus: availableParallelism(),
    memoryMB: Math.floor(totalmem() / (1024 * 1024)),
    build: Number(release().split('.')[2] ?? 0) || 0,
  };
}
