// Soak: `cycles` create -> exec -> rm cycles of one process-isolated sandbox
// through the public Sandbox API, sampling this process's OS handle count, its
// memory, the files under the store root and the simulated host's live
// systems every `every` cycles. Used trimmed by the Wine tier (test/wine/soak.test.ts)
// and in full by `npm run bench`. argv: cycles, every, warmup.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { main, product, sim } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox, enumerateComputeSystems } = product;
const cycles = Number(process.argv[2] ?? 100);
const every = Number(process.argv[3] ?? 10);
const warmup = Number(process.argv[4] ?? 10);
const home = process.env.HCS_SANDBOX_HOME;

const kernel32 = koffi.load('kernel32.dll');
const GetCurrentProcess = kernel32.func('void *GetCurrentProcess()');
const GetProcessHandleCount = kernel32.func(
  'bool GetProcessHandleCount(void *process, _Out_ uint32_t *count)',
);
const NtQuerySystemInformation = koffi
  .load('ntdll.dll')
  .func(
    'int32 NtQuerySystemInformation(uint32 infoClass, void *buffer, uint32 length, _Out_ uint32 *returned)',
  );
const STATUS_INFO_LENGTH_MISMATCH = 0xc0000004 | 0;

/**
 * This process's open OS handles. Windows answers GetProcessHandleCount; Wine 8
 * answers 0 there, so under Wine the handles are counted in the system handle
 * table (SystemHandleInformation, class 16: a ULONG count, then 24-byte entries
 * whose first ULONG is the owner pid in Wine's layout).
 */
function handleCount() {
  const out = [0];
  if (GetProcessHandleCount(GetCurrentProcess(), out) && out[0] > 0) return out[0];
  for (let size = 1 << 20; ; size *= 2) {
    const buffer = Buffer.alloc(size);
    const status = NtQuerySystemInformation(16, buffer, size, [0]);
    if (status === STATUS_INFO_LENGTH_MISMATCH) continue;
    if (status !== 0) throw new Error(`NtQuerySystemInformation: 0x${(status >>> 0).toString(16)}`);
    let mine = 0;
    for (let i = 0; i < buffer.readUInt32LE(0); i++)
      if (buffer.readUInt32LE(8 + i * 24) === process.pid) mine++;
    return mine;
  }
}

/** Files (not folders) under the store root, the image's own layer excluded (it never changes). */
function storeFiles(dir = home) {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) n += entry.name === 'layers' ? 0 : storeFiles(join(dir, entry.name));
    else n++;
  }
  return n;
}

async function sample(cycle) {
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const systems = (await enumerateComputeSystems({})).filter((s) => s.Id.startsWith('hcssb-')).length;
  return {
    cycle,
    handles: handleCount(),
    rssMB: memory.rss / 2 ** 20,
    heapMB: memory.heapUsed / 2 ** 20,
    files: storeFiles(),
    systems,
  };
}

/** Least-squares slope of `key` against the cycle number, per 100 cycles. */
function slopePer100(samples, key) {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((s, p) => s + p.cycle, 0) / n;
  const my = samples.reduce((s, p) => s + p[key], 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.cycle - mx) * (p[key] - my);
    den += (p.cycle - mx) ** 2;
  }
  return den === 0 ? 0 : (100 * num) / den;
}

await main(async () => {
  const image = await seedImage(home, 'local/soak:1');
  sim({ Op: 'ResetAudit' });
  const samples = [];
  let wrongOutput = 0;
  const t0 = performance.now();
  for (let i = 1; i <= cycles; i++) {
    const sandbox = await Sandbox.create({ image, name: `soak-${i % 7}` });
    try {
      const out = await sandbox.commands.run(`cmd /c echo soak ${i}`);
      if (out.stdout.trim() !== `soak ${i}`) wrongOutput++;
    } finally {
      await sandbox.remove();
    }
    if (i >= warmup && (i - warmup) % every === 0) samples.push(await sample(i));
  }
  const ms = performance.now() - t0;
  const slopes = Object.fromEntries(
    ['handles', 'rssMB', 'heapMB', 'files', 'systems'].map((k) => [k, slopePer100(samples, k)]),
  );
  return {
    cycles,
    msPerCycle: ms / cycles,
    wrongOutput,
    first: samples[0],
    last: samples.at(-1),
    slopesPer100: slopes,
    samples,
    audit: sim({ Op: 'Audit' }),
  };
});
