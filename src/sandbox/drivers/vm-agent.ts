import { existsSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { ComputeSystem, SystemExitStatus } from '../../hcs/index.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import { packagedAgent } from '../../internal/packaged-agent.js';
import { AGENT_SERVICE_ID } from '../../schema/index.js';
import { AgentClient, type RelayTarget, spawnRelay } from '../agent/index.js';
import { AgentNotReadyError, GuestAgentRequiredError } from '../errors.js';
import { LiveContainer } from './container-common.js';

/** The path of hvsock-relay.exe, the child process that carries the agent's bytes (docs/vm.md). */
export const AGENT_RELAY_ENV = 'HCS_SANDBOX_AGENT_RELAY';
/**
 * Connect to the agent through the named pipe `<prefix>\<RuntimeId>\<AGENT_SERVICE_ID>`
 * instead of AF_HYPERV: for an agent listening on a pipe (`agent.exe --listen pipe:...`),
 * e.g. one run on the host for testing. Unset: AF_HYPERV, the VM's own socket.
 */
export const AGENT_PIPE_PREFIX_ENV = 'HCS_SANDBOX_AGENT_PIPE_PREFIX';
/** How long `start` waits for the agent's READY (milliseconds). */
export const AGENT_READY_ENV = 'HCS_SANDBOX_AGENT_READY_MS';
/** A Windows desktop boots in about 37 s (disco-vm); its agent service starts with it. */
export const DEFAULT_AGENT_READY_MS = 120_000;
/** How long a process that opened a running VM (or `stop`) waits for its agent. */
const ATTACH_WAIT_MS = 5_000;

export interface AgentSettings {
  relayExe: string;
  pipePrefix: string | undefined;
  readyTimeoutMs: number;
}

/**
 * How this host reaches VM agents, or why it cannot (then VM commands and
 * files are refused): the relay this package ships (dist/agent), or the one
 * `HCS_SANDBOX_AGENT_RELAY` names.
 */
export function agentSettings(env: NodeJS.ProcessEnv = process.env): AgentSettings | { unavailable: string } {
  const relayExe = env[AGENT_RELAY_ENV] || packagedAgent()?.relayExe;
  if (!relayExe)
    return {
      unavailable:
        `and this copy of hcs-sandbox has no hvsock-relay.exe (dist/agent: built without MinGW-w64?); ` +
        `install a published package or set ${AGENT_RELAY_ENV}`,
    };
  if (!existsSync(relayExe))
    return { unavailable: `and ${AGENT_RELAY_ENV} names ${relayExe}, which does not exist` };
  const ready = env[AGENT_READY_ENV];
  const readyTimeoutMs = ready === undefined || ready === '' ? DEFAULT_AGENT_READY_MS : Number(ready);
  if (!Number.isInteger(readyTimeoutMs) || readyTimeoutMs <= 0 || readyTimeoutMs > 3_600_000) {
    throw new InvalidArgumentError(
      AGENT_READY_ENV,
      'a whole number of milliseconds from 1 to 3600000',
      ready,
    );
  }
  return { relayExe, pipePrefix: env[AGENT_PIPE_PREFIX_ENV] || undefined, readyTimeoutMs };
}

/**
 * The settings for a sandbox of VM image `image`: none when the image carries
 * no agent (built with --no-agent), so nothing waits for one that never comes.
 */
export function settingsForImage(
  settings: AgentSettings | { unavailable: string },
  image: string | undefined,
  imageHasAgent: boolean,
): AgentSettings | { unavailable: string } {
  if (imageHasAgent || 'unavailable' in settings) return settings;
  return {
    unavailable:
      `and its VM image ${image ?? '(unknown)'} carries no guest agent: stage one with ` +
      `\`hcs-sandbox vm image build --agent-only ${image ?? '<image>'}\` and create the sandbox again`,
  };
}

/** Opens the byte stream to an agent; the relay by default, a fake in tests. */
export type AgentTransport = (relayExe: string, target: RelayTarget, waitMs: number) => Duplex;
let transport: AgentTransport = spawnRelay;

/** @internal Tests replace the relay with an in-process fake agent; `undefined` restores it. */
export function setAgentTransport(replacement: AgentTransport | undefined): void {
  transport = replacement ?? spawnRelay;
}

/** Where the VM `runtimeId`'s agent listens, as the relay dials it. */
export function agentTarget(settings: AgentSettings, runtimeId: string): RelayTarget {
  return settings.pipePrefix === undefined
    ? { vmId: runtimeId, serviceId: AGENT_SERVICE_ID }
    : { pipe: `${settings.pipePrefix}\\${runtimeId}\\${AGENT_SERVICE_ID}` };
}

/**
 * Connects to the agent of the running VM `system` and resolves once it is
 * READY; one budget of `waitMs` covers both the relay's retries (the agent
 * starts with the guest) and READY. Fails with {@link AgentNotReadyError}.
 */
export async function connectVmAgent(
  sandbox: string,
  system: ComputeSystem,
  settings: AgentSettings,
  waitMs: number,
): Promise<AgentClient> {
  let io: Duplex | undefined;
  try {
    const runtimeId = (await system.properties<{ RuntimeId?: string }>()).RuntimeId;
    if (!runtimeId) throw new Error(`compute system ${system.id} reports no RuntimeId`);
    io = transport(settings.relayExe, agentTarget(settings, runtimeId), waitMs);
    return await AgentClient.connect(io, { timeoutMs: waitMs });
  } catch (error) {
    io?.destroy();
    throw new AgentNotReadyError(sandbox, waitMs, error);
  }
}

/**
 * A running VM sandbox as this process holds it: its compute system, and its
 * agent connection, made by `start` (which waited for READY) or on first use
 * by a process that opened the sandbox. `stop` asks the agent to shut the
 * guest down before HCS's own shutdown and terminate.
 */
export class LiveVm extends LiveContainer {
  readonly #sandbox: string;
  readonly #settings: AgentSettings | { unavailable: string };
  #agent: Promise<AgentClient> | undefined;

  constructor(
    sandbox: string,
    system: ComputeSystem,
    settings: AgentSettings | { unavailable: string },
    agent?: AgentClient,
  ) {
    super(system);
    this.#sandbox = sandbox;
    this.#settings = settings;
    if (agent) this.#agent = Promise.resolve(agent);
  }

  /** The agent connection, made on first use; a broken one is made again. */
  async guestAgent(): Promise<AgentClient> {
    const settings = this.#settings;
    if ('unavailable' in settings)
      throw new GuestAgentRequiredError(this.#sandbox, 'commands and files', settings.unavailable);
    const current = this.#agent && (await this.#agent.catch(() => undefined));
    if (current && !current.closedBecause) return current;
    this.#agent = connectVmAgent(
      this.#sandbox,
      this.system,
      settings,
      Math.min(ATTACH_WAIT_MS, settings.readyTimeoutMs),
    );
    this.#agent.catch(() => undefined);
    return this.#agent;
  }

  override async stop(timeoutMs: number): Promise<SystemExitStatus | undefined> {
    const agent = await this.guestAgent().catch(() => undefined);
    if (agent) {
      // The guest powers itself off (or, for an agent in --console mode, just the agent stops);
      // a failed or lost request leaves the HCS path below to do the work.
      const asked = await agent.shutdown().then(
        () => true,
        () => false,
      );
      agent.close();
      this.#agent = undefined;
      if (asked && !agent.info.consoleMode) {
        const exited = await this.system.waitForExit({ timeoutMs }).catch(() => undefined);
        if (exited) {
          await this.system.close();
          return exited;
        }
      }
    }
    return super.stop(timeoutMs);
  }

  override async terminate(): Promise<void> {
    this.#closeAgent();
    await super.terminate();
  }

  override async close(): Promise<void> {
    this.#closeAgent();
    await super.close();
  }

  #closeAgent(): void {
    const agent = this.#agent;
    this.#agent = undefined;
    agent?.then((a) => a.close()).catch(() => undefined);
  }
}
