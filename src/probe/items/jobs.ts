import { runInJob } from '../../jobs/index.js';
import { fail, type ProbeItem, pass, skip } from '../types.js';

const LIMIT_BYTES = 256 * 2 ** 20;

/** A node.exe child that commits `mib` MiB in 16 MiB buffers, touching every page. */
function allocator(mib: number): string[] {
  const code = `const k=[];for(let i=0;i<${mib / 16};i++)k.push(Buffer.alloc(16*2**20,1));console.log(k.length)`;
  return [process.execPath, '-e', code];
}

export const jobItems: ProbeItem[] = [
  {
    id: 'jobs.memory-limit',
    title: 'a job memory limit is enforced: a process committing past it fails, one below it runs',
    rows: ['22'],
    timeoutMs: 120_000,
    async run(ctx) {
      // Wine accepts job limits and enforces none (docs/jobs.md): nothing to learn there.
      if (ctx.host.wine) skip(`Wine ${ctx.host.wine} does not enforce job object limits`);
      const limits = { processMemory: LIMIT_BYTES };
      const options = {
        stdio: { stdout: 'ignore', stderr: 'ignore' } as const,
        timeoutMs: 60_000,
        signal: ctx.signal,
      };
      const below = await runInJob(allocator(32), limits, options);
      const past = await runInJob(allocator(1024), limits, options);
      const details = {
        limitBytes: LIMIT_BYTES,
        below: {
          allocatedMiB: 32,
          exitCode: below.exitCode,
          peakProcessMemory: below.accounting.peakProcessMemory,
        },
        past: {
          allocatedMiB: 1024,
          exitCode: past.exitCode,
          peakProcessMemory: past.accounting.peakProcessMemory,
        },
      };
      if (below.exitCode !== 0)
        return fail('a process well below the limit failed: the check says nothing', details);
      if (past.exitCode === 0) return fail('a process committed 1 GiB under a 256 MiB limit', details);
      return pass(`committing past the limit failed (exit ${past.exitCode}); below it ran`, details);
    },
  },
];
