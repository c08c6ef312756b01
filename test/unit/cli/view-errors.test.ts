import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { execute } from '../../../src/cli/execute.js';
import { EXIT, exitCodeOf, exitSchemeOf } from '../../../src/cli/exit-codes.js';
import { parsePlan } from '../../../src/cli/plan.js';
import { errorText, jsonError } from '../../../src/cli/report.js';
import { loadSdk } from '../../../src/cli/sdk.js';
import { Sandbox } from '../../../src/sandbox/index.js';
import { rejectionOf } from '../../support/fake-harness.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

// `hcs-sandbox view` refusing what has no screen, as main.ts reports it: the error's code,
// and exit 1 (a verb that runs no command: docs/cli.md "Exit codes"), against the fake host.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

beforeAll(loadSdk);
const host = useFakeSandboxHost();
const saved = process.env.HCS_SANDBOX_HOME;
beforeEach(() => {
  process.env.HCS_SANDBOX_HOME = host.home;
});
afterEach(() => {
  if (saved === undefined) delete process.env.HCS_SANDBOX_HOME;
  else process.env.HCS_SANDBOX_HOME = saved;
});

/** `view NAME ...` through the CLI's plan and command, as main.ts runs it: the error and its exit code. */
async function viewFails(...argv: string[]) {
  const io = { out: () => {}, err: () => {} };
  const plan = parsePlan(['view', ...argv]);
  const error = await rejectionOf(execute(plan, io));
  return { error, exitCode: exitCodeOf(error, exitSchemeOf(plan.kind)), json: jsonError(error) };
}

describe('hcs-sandbox view refuses a sandbox without a screen', () => {
  it('a process-isolated container: SANDBOX_NOT_VM, exit 1, naming its isolation', async () => {
    const image = await host.seedImage();
    const sandbox = await Sandbox.create({ image, name: 'box', home: host.home, network: 'none' });
    const { error, exitCode, json } = await viewFails('box', '--no-launch', '--json');
    expect(exitCode).toBe(EXIT.failure);
    expect(json.error).toMatchObject({ code: 'SANDBOX_NOT_VM', kind: 'invalid-state' });
    expect(errorText(error, false)).toMatch(/"box" is a process-isolated container.*isolation 'vm'/);
    await sandbox.remove();
    host.expectNothingLeft('box');
  });

  it('a stopped VM: SANDBOX_NOT_RUNNING, exit 1', async () => {
    const image = await host.seedVmImage();
    const sandbox = await Sandbox.create({
      image,
      isolation: 'vm',
      name: 'desk',
      home: host.home,
      network: 'none',
      persistent: true,
    });
    await sandbox.stop();
    const { error, exitCode, json } = await viewFails('desk', '--no-launch');
    expect(exitCode).toBe(EXIT.failure);
    expect(json.error).toMatchObject({ code: 'SANDBOX_NOT_RUNNING', kind: 'invalid-state' });
    expect(errorText(error, false)).toMatch(/"desk" is not running \(status stopped\)/);
    await sandbox.remove();
    host.expectNothingLeft('desk');
  });
});
