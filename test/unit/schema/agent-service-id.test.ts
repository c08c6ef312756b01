import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script of the repo, without types
import { GENERATED, generatedSource } from '../../../scripts/gen-agent-service-id.mjs';
import { AGENT_SERVICE_ID, buildDiskBootVm } from '../../../src/schema/index.js';

describe("the guest agent's service id", () => {
  it('is generated from agent/service-id.h (run scripts/gen-agent-service-id.mjs after changing it)', () => {
    expect(readFileSync(GENERATED, 'utf8')).toBe(generatedSource());
    expect(generatedSource()).toContain(`'${AGENT_SERVICE_ID}'`);
  });

  it("is the one the VM document's HvSocket service table names", () => {
    const document = buildDiskBootVm({
      owner: 'test',
      osDiskPath: 'C:\\s\\os.vhdx',
      guestStateFilePath: 'C:\\s\\vm.vmgs',
      runtimeStateFilePath: 'C:\\s\\vm.vmrs',
      videoConnection: { namedPipe: '\\\\.\\pipe\\x.BasicSession', accessSids: ['S-1-5-32-544'] },
    });
    const table = document.VirtualMachine?.Devices?.HvSocket?.HvSocketConfig?.ServiceTable ?? {};
    expect(Object.keys(table)).toEqual([AGENT_SERVICE_ID]);
  });
});
