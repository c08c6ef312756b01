import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { setPackagedAgentDir } from '../../../src/internal/packaged-agent.js';
import { AgentErrorCode, ExecFlag, FrameType, type RelayTarget } from '../../../src/sandbox/agent/index.js';
import {
  AGENT_PIPE_PREFIX_ENV,
  AGENT_READY_ENV,
  AGENT_RELAY_ENV,
  setAgentTransport,
} from '../../../src/sandbox/drivers/vm-agent.js';
import {
  AgentNotReadyError,
  CommandExitError,
  GuestAgentRequiredError,
  Sandbox,
  type SandboxOptions,
} from '../../../src/sandbox/index.js';
import { AGENT_SERVICE_ID } from '../../../src/schema/index.js';
import { FakeAgent } from '../../support/fake-agent.js';
import { rejectionOf } from '../../support/fake-harness.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

// Issue 15: the VM driver's agent path (commands, readiness, stop) against a fake agent
// speaking the protocol over an in-process Duplex instead of hvsock-relay.exe.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const host = useFakeSandboxHost();
let agent: FakeAgent;
let targets: { relay: string; target: RelayTarget; waitMs: number }[];

beforeEach(() => {
  agent = new FakeAgent();
  targets = [];
  // The Wine tier's global setup puts the simulated host's agent settings in this
  // process's environment when both tiers run in one vitest run (npm test): start clean.
  for (const name of [AGENT_RELAY_ENV, AGENT_PIPE_PREFIX_ENV, AGENT_READY_ENV]) delete process.env[name];
  // Any file that exists: the fake transport never runs it.
  process.env[AGENT_RELAY_ENV] = import.meta.filename;
  setAgentTransport((relay, target, waitMs) => {
    targets.push({ relay, target, waitMs });
    return agent.connect();
  });
});

afterEach(() => {
  setAgentTransport(undefined);
  for (const name of [AGENT_RELAY_ENV, AGENT_PIPE_PREFIX_ENV, AGENT_READY_ENV]) delete process.env[name];
});

async function create(extra: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const image = await host.seedVmImage();
  return Sandbox.create({ image, isolation: 'vm', name: 'vm1', home: host.home, network: 'none', ...extra });
}

describe('VM sandboxes through the guest agent', () => {
  it('start waits for READY at {RuntimeId, AGENT_SERVICE_ID}; commands go to the agent, not HcsCreateProcess', async () => {
    agent.script = (line) =>
      line.includes('fail') ? { stdout: 'oops', exitCode: 3 } : { stdout: 'hi\r\n', exitCode: 0 };
    const sandbox = await create();
    expect(targets).toEqual([
      {
        relay: import.meta.filename,
        target: { vmId: `runtime-${sandbox.id}`, serviceId: AGENT_SERVICE_ID },
        waitMs: 120_000,
      },
    ]);
    const result = await sandbox.commands.run(['cmd', '/c', 'echo', 'hi']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'hi\r\n', stderr: '', timedOut: false });
    expect(agent.commandLines).toEqual(['cmd /c echo hi']);
    const failed = await rejectionOf(sandbox.commands.run('fail.exe'));
    expect(failed).toBeInstanceOf(CommandExitError);
    expect(failed).toMatchObject({ exitCode: 3, stdout: 'oops' });
    // The attach path of another process makes its own connection.
    const other = await Sandbox.open('vm1', { home: host.home });
    expect((await other.commands.run('cmd /c ver')).exitCode).toBe(0);
    await other.close();
    expect(targets).toHaveLength(2);
    expect(host.hcs.fake.nativeCalls('HcsCreateProcess')).toEqual([]);
    await sandbox.remove();
    host.expectNothingLeft('vm1');
  });

  it('a timeout sends KILL and reports timedOut; user is refused (the agent runs as SYSTEM)', async () => {
    agent.script = () => 'hang';
    const sandbox = await create();
    const result = await sandbox.commands.run('ping -t localhost', { timeoutMs: 30, reject: false });
    expect(result.timedOut).toBe(true);
    expect(agent.received.map((f) => f.type)).toContain(FrameType.kill);
    expect(await rejectionOf(sandbox.commands.run('whoami', { user: 'ContainerUser' }))).toBeInstanceOf(
      InvalidArgumentError,
    );
    await sandbox.remove();
  });

  it('desktop commands run interactive, waiting while nobody is signed in yet; then the refusal is the error', async () => {
    let refusals = 2;
    const flagsSeen: number[] = [];
    agent.script = (_line, flags) => {
      flagsSeen.push(flags);
      if (refusals-- > 0)
        return { refuse: { code: AgentErrorCode.unsupported, message: 'no interactive user session' } };
      return { stdout: 'on the desktop', exitCode: 0 };
    };
    const sandbox = await create();
    const result = await sandbox.commands.run('notepad', { desktop: true });
    expect(result.stdout).toBe('on the desktop');
    expect(flagsSeen).toHaveLength(3);
    for (const flags of flagsSeen) expect(flags & ExecFlag.interactive).toBe(ExecFlag.interactive);
    // Never signed in within the wait: the agent's answer, typed.
    agent.script = () => ({
      refuse: { code: AgentErrorCode.unsupported, message: 'no interactive user session' },
    });
    const error = await rejectionOf(sandbox.commands.run('notepad', { desktop: true, desktopWaitMs: 0 }));
    expect(error).toMatchObject({ name: 'AgentRequestError', agentCode: AgentErrorCode.unsupported });
    // Any other refusal is not waited on.
    agent.script = () => ({ refuse: { code: AgentErrorCode.win32, message: 'no such program' } });
    expect(await rejectionOf(sandbox.commands.run('nope', { desktop: true }))).toMatchObject({
      agentCode: AgentErrorCode.win32,
    });
    await sandbox.remove();
  }, 15_000);

  it('the pipe prefix makes the relay dial <prefix>\\<RuntimeId>\\<service id>', async () => {
    process.env[AGENT_PIPE_PREFIX_ENV] = 'hcs-test';
    process.env[AGENT_READY_ENV] = '2000';
    const sandbox = await create();
    expect(targets[0]).toMatchObject({
      target: { pipe: `hcs-test\\runtime-${sandbox.id}\\${AGENT_SERVICE_ID}` },
      waitMs: 2000,
    });
    await sandbox.remove();
  });

  it('an agent that never says READY fails create with AgentNotReadyError and leaves nothing', async () => {
    agent.ready = false;
    process.env[AGENT_READY_ENV] = '50';
    const error = await rejectionOf(create());
    expect(error).toBeInstanceOf(AgentNotReadyError);
    expect(error).toMatchObject({ code: 'AGENT_NOT_READY', kind: 'unavailable', timeoutMs: 50 });
    expect(host.hcs.fake.systemIds()).toEqual([]);
    host.expectNothingLeft('vm1');
  });

  it('a bad readiness setting is refused before anything runs', async () => {
    process.env[AGENT_READY_ENV] = 'soon';
    const error = await rejectionOf(create());
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(host.hcs.fake.nativeCalls('HcsStartComputeSystem')).toEqual([]);
  });

  it('stop asks the agent to shut down before HCS does', async () => {
    const sandbox = await create({ persistent: true });
    let hcsCallsAtShutdown: string[] | undefined;
    agent.onFrame = (frame) => {
      if (frame.type === FrameType.shutdown)
        hcsCallsAtShutdown = host.hcs.fake.nativeCalls().map((c) => c.fn);
    };
    await sandbox.stop();
    expect(hcsCallsAtShutdown).toBeDefined();
    expect(hcsCallsAtShutdown).not.toContain('HcsShutDownComputeSystem');
    expect(host.hcs.fake.nativeCalls().map((c) => c.fn)).toContain('HcsShutDownComputeSystem');
    await sandbox.remove();
  });

  it('an image built without the agent: start waits for none, commands say how to stage one', async () => {
    const image = await host.seedVmImage('bare', { agent: false });
    const sandbox = await Sandbox.create({
      image,
      isolation: 'vm',
      name: 'vm1',
      home: host.home,
      network: 'none',
    });
    expect(targets).toEqual([]);
    const run = await rejectionOf(sandbox.commands.run('cmd /c ver'));
    expect(run).toBeInstanceOf(GuestAgentRequiredError);
    expect((run as Error).message).toContain('vm image build --agent-only bare');
    await sandbox.remove();
  });

  it('uses the relay this package ships when the environment names none', async () => {
    delete process.env[AGENT_RELAY_ENV];
    const packaged = join(host.home, 'packaged-agent');
    mkdirSync(packaged);
    for (const exe of ['agent.exe', 'hvsock-relay.exe']) writeFileSync(join(packaged, exe), 'MZ');
    setPackagedAgentDir(`${packaged}/`);
    const sandbox = await create();
    expect(targets.map((t) => t.relay)).toEqual([join(packaged, 'hvsock-relay.exe')]);
    await sandbox.remove();
  });

  it('with no relay at all, commands and files are refused with GuestAgentRequiredError', async () => {
    delete process.env[AGENT_RELAY_ENV];
    const sandbox = await create();
    expect(targets).toEqual([]);
    const run = await rejectionOf(sandbox.commands.run('cmd /c ver'));
    expect(run).toBeInstanceOf(GuestAgentRequiredError);
    expect((run as Error).message).toContain(AGENT_RELAY_ENV);
    expect(await rejectionOf(sandbox.files.read('C:\\a.txt'))).toBeInstanceOf(GuestAgentRequiredError);
    await sandbox.remove();
  });
});
