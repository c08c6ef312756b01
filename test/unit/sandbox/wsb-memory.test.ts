import { describe, expect, it } from 'vitest';
import { parseWsb } from '../../../src/sandbox/wsb/reader.js';
import { wsbToSandboxOptions } from '../../../src/sandbox/wsb/to-options.js';

/**
 * Issue 13, item 17: a `<MemoryInMB>` below Windows Sandbox's 2048 MB minimum
 * is raised to it for a `vm` sandbox, as Windows Sandbox does, with a warning,
 * never kept silently; a container (no desktop to boot) takes it as written.
 */

const file = (mb: number) =>
  parseWsb(`<Configuration>\n  <vGPU>Disable</vGPU>\n  <MemoryInMB>${mb}</MemoryInMB>\n</Configuration>`, {
    fileName: 'small.wsb',
  });

describe('.wsb MemoryInMB below the Windows Sandbox minimum', () => {
  it('is raised to 2048 MB with a warning for a vm sandbox', () => {
    const { options, warnings } = wsbToSandboxOptions(file(512), { isolation: 'vm' });
    expect(options.memoryMB).toBe(2048);
    expect(warnings).toEqual([
      {
        setting: 'MemoryInMB',
        value: '512',
        message: expect.stringMatching(/below Windows Sandbox's minimum of 2048 MB; raised to 2048 MB/),
        fileName: 'small.wsb',
        line: 3,
        column: 3,
      },
    ]);
  });

  it.each(['process', 'hyperv'] as const)('is kept as written for a container (%s)', (isolation) => {
    const { options, warnings } = wsbToSandboxOptions(file(512), { isolation });
    expect(options.memoryMB).toBe(512);
    expect(warnings.filter((w) => w.setting === 'MemoryInMB')).toEqual([]);
  });

  it('keeps 2048 and above as written, without a warning', () => {
    expect(wsbToSandboxOptions(file(2048))).toEqual({
      options: { memoryMB: 2048, network: 'nat', mappedFolders: [], gpu: false },
      warnings: [],
    });
    expect(wsbToSandboxOptions(file(4096)).options.memoryMB).toBe(4096);
  });

  it('leaves an explicit memoryMB override alone: the override wins, and the file value is not used', () => {
    const { options, warnings } = wsbToSandboxOptions(file(1), { memoryMB: 1024 });
    expect(options.memoryMB).toBe(1024);
    expect(warnings).toEqual([]);
  });
});
