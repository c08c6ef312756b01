import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { enumerateComputeSystems, HcsError, serviceProperties } from '../../hcs/index.js';
import { fileSecurityBindings } from '../../native/index.js';
import {
  LimitUpdateUnsupportedError,
  Sandbox,
  SandboxNotFoundError,
  StateStore,
} from '../../sandbox/index.js';
import { type VmImageRecord, VmImageStore } from '../../storage/index.js';
import { type ProbeContext, type ProbeItem, type ProbeItemResult, ProbeSkip, skip } from '../types.js';
import { RowVerdicts, since } from './verdicts.js';
import { VM_BOOT_ROWS, vmBootVerdicts } from './vm-boot-verdicts.js';
import { askScreen, closedWithin, connectWithin, describeScreen, requestAnswer } from './vm-screen.js';

/**
 * `vm.boot`: boots a VM sandbox from a ready VM image on a Hyper-V host and
 * watches what docs/windows-verification.md's VD, VV and VS rows say only such
 * a host can show: which documents vmwp accepts, whether the screen's pipe
 * answers (the sign of a booted VM until the guest agent exists), the view
 * relay, a second viewer, pause, the guest's shutdown, a memory update, and
 * that removing the sandbox leaves nothing.
 */

export interface VmBootSettings {
  /** `HCS_PROBE_VM_IMAGE`: the ready VM image to boot. */
  image: string | undefined;
  /** `HCS_PROBE_VM_SCREEN_SECONDS`: how long the screen's pipe gets to appear, and to answer. */
  screenWaitMs: number;
  /** `HCS_PROBE_VM_BOOT_SECONDS`: how long after its start the guest gets before it is asked to shut down. */
  bootWaitMs: number;
  /** A setting that could not be read: the item is skipped saying so. */
  invalid?: string;
  /** Where a VM's screen is served (tests: a socket of theirs). */
  pipePathOf(systemId: string): string;
}

/**
 * `\\.\pipe\<system id>.BasicSession`: where the VM driver's document asks the
 * worker to serve the screen. Written out here rather than imported, because
 * this is the name the probe checks the worker really serves (row VV1).
 */
export function basicSessionPipe(systemId: string): string {
  return `\\\\.\\pipe\\${systemId}.BasicSession`;
}

function secondsFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number | string {
  const text = env[name];
  if (text === undefined || text === '') return fallback * 1000;
  if (!/^\d{1,5}$/.test(text))
    return `${name} must be a whole number of seconds (0-99999), not ${JSON.stringify(text)}`;
  return Number(text) * 1000;
}

/** The item's settings from the environment (docs/probe.md). */
export function vmBootSettings(env: NodeJS.ProcessEnv = process.env): VmBootSettings {
  // Windows Setup runs at a sandbox's first boot (disco-vm measured ~4.6 min): 5 minutes by default.
  const boot = secondsFrom(env, 'HCS_PROBE_VM_BOOT_SECONDS', 300);
  const screen = secondsFrom(env, 'HCS_PROBE_VM_SCREEN_SECONDS', 120);
  const invalid = [boot, screen].find((v): v is string => typeof v === 'string');
  return {
    image: env.HCS_PROBE_VM_IMAGE || undefined,
    bootWaitMs: typeof boot === 'number' ? boot : 0,
    screenWaitMs: typeof screen === 'number' ? screen : 0,
    ...(invalid !== undefined && { invalid }),
    pipePathOf: basicSessionPipe,
  };
}

const HYPERV_MISSING = new Set(['HCS_E_HYPERV_NOT_INSTALLED', 'ERROR_VMCOMPUTE_HYPERV_NOT_INSTALLED']);

/** How many `NT VIRTUAL MACHINE\...` (S-1-5-83-*) entries `path`'s DACL has, or undefined when it cannot be read. */
function vmAces(path: string): number | undefined {
  try {
    return fileSecurityBindings().read(path).sddl.split(';S-1-5-83-').length - 1;
  } catch {
    return undefined;
  }
}

/** Waits `ms`, ending early (without an error) when the probe run is aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(Math.max(0, ms), undefined, { signal }).catch(() => {});
}

/** What one run saw, in the order it happened; vm-boot-verdicts.ts turns it into row verdicts. */
export interface VmBootObservations {
  image: string;
  pipe?: string;
  createMs?: number;
  startMs?: number;
  startError?: string;
  screen?: string;
  screenAnswered?: boolean;
  relay?: string;
  relayAnswered?: boolean;
  takeover?: { secondConnected: boolean; secondError?: string; firstCut: boolean; secondAnswer?: string };
  update?: { accepted: boolean; unsupported?: boolean; error?: string };
  pipeWhilePaused?: boolean;
  stop?: { ms: number; exitType?: string | undefined; status?: number | undefined };
  pipeAfterStop?: boolean;
  secondStart?: { started: boolean; error?: string };
  vmAces?: {
    before?: number | undefined;
    running?: number | undefined;
    afterFirstRemoved?: number | undefined;
    after?: number | undefined;
  };
  leftovers?: string[];
}

class VmBootRun {
  readonly seen: VmBootObservations;
  readonly #home: { home?: string };

  constructor(
    readonly ctx: ProbeContext,
    readonly settings: VmBootSettings,
    readonly image: VmImageRecord,
  ) {
    this.seen = { image: image.name };
    this.#home = ctx.home === undefined ? {} : { home: ctx.home };
  }

  async #create(name: string): Promise<Sandbox> {
    const started = performance.now();
    const options = { image: this.image.name, isolation: 'vm', name, network: 'none', start: false } as const;
    const sandbox = await Sandbox.create(
      { ...options, memoryMB: 4096, ...this.#home },
      { signal: this.ctx.signal },
    );
    this.ctx.defer(`remove sandbox ${name}`, () =>
      sandbox.remove().catch((error: unknown) => {
        if (!(error instanceof SandboxNotFoundError)) throw error;
      }),
    );
    this.seen.createMs ??= since(started);
    return sandbox;
  }

  async #start(sandbox: Sandbox): Promise<void> {
    try {
      await sandbox.start({ signal: this.ctx.signal });
    } catch (error) {
      if (error instanceof HcsError && HYPERV_MISSING.has(error.hresultName))
        skip(
          `Hyper-V is not installed or not enabled (${error.hresultName}): enable the Microsoft-Hyper-V feature`,
        );
      throw error;
    }
  }

  async steps(): Promise<void> {
    const { ctx, settings, seen } = this;
    const pid = process.pid;
    seen.vmAces = { before: vmAces(this.image.vhdxPath) };
    const first = await this.#create(`hcs-sandbox-probe-vm-${pid}`);
    // A second sandbox over the same image, never started until the first is gone: VD3's other half.
    const second = await this.#create(`hcs-sandbox-probe-vm2-${pid}`);
    const started = performance.now();
    try {
      await this.#start(first);
    } catch (error) {
      if (error instanceof ProbeSkip) throw error;
      seen.startError =
        error instanceof HcsError ? `${error.hresultName} (${error.hresultHex})` : String(error);
      throw error;
    }
    seen.startMs = since(started);
    seen.vmAces.running = vmAces(this.image.vhdxPath);
    const pipe = settings.pipePathOf(first.id);
    seen.pipe = pipe;
    ctx.log(`waiting up to ${settings.screenWaitMs} ms for ${pipe} to answer`);
    const direct = await askScreen(pipe, settings.screenWaitMs, settings.screenWaitMs, ctx.signal);
    seen.screen = describeScreen(direct);
    seen.screenAnswered = !('error' in direct) && direct.tpkt;
    await this.#relay(first, pipe);
    await this.#takeover(pipe);

    const left = settings.bootWaitMs - since(started);
    if (left > 0) ctx.log(`giving the guest ${left} ms more to boot before asking it to shut down`);
    await sleep(left, ctx.signal);
    await this.#update(first);
    await first.pause({ signal: ctx.signal });
    seen.pipeWhilePaused = await this.#pipeThere(pipe);
    await first.resume({ signal: ctx.signal });

    const stopping = performance.now();
    const status = await first.stop();
    seen.stop = { ms: since(stopping), exitType: status?.ExitType, status: status?.Status };
    seen.pipeAfterStop = await this.#pipeStays(pipe, 2_000);

    await first.remove();
    seen.vmAces.afterFirstRemoved = vmAces(this.image.vhdxPath);
    try {
      await this.#start(second);
      seen.secondStart = { started: true };
      await second.kill();
    } catch (error) {
      if (error instanceof ProbeSkip) throw error;
      seen.secondStart = { started: false, error: (error as Error).message };
    }
    await second.remove();
    seen.vmAces.after = vmAces(this.image.vhdxPath);
    seen.leftovers = await this.#leftovers([first, second]);
  }

  /** The view relay, asked the same question as the pipe (the screen through `hcs-sandbox view`). */
  async #relay(sandbox: Sandbox, pipe: string): Promise<void> {
    const view = await sandbox.view({
      launch: false,
      // Only tests serve the screen elsewhere; on a host the relay finds the pipe by itself.
      ...(pipe !== basicSessionPipe(sandbox.id) && { pipePath: pipe }),
    });
    try {
      const relayed = await askScreen(
        { host: '127.0.0.1', port: view.port },
        5_000,
        this.settings.screenWaitMs,
      );
      this.seen.relay = describeScreen(relayed);
      this.seen.relayAnswered = !('error' in relayed) && relayed.tpkt;
    } finally {
      await view.close();
    }
  }

  /** Two clients on the pipe: is the first cut off when the second connects (VV4)? */
  async #takeover(pipe: string): Promise<void> {
    const first = await connectWithin(pipe, 5_000, this.ctx.signal);
    if ('error' in first) return;
    const second = await connectWithin(pipe, 5_000, this.ctx.signal);
    try {
      const firstCut = await closedWithin(first.socket, 3_000);
      if ('error' in second) {
        this.seen.takeover = { secondConnected: false, secondError: second.error, firstCut };
        return;
      }
      const answer = await requestAnswer(second.socket, Math.min(this.settings.screenWaitMs, 10_000));
      this.seen.takeover = {
        secondConnected: true,
        firstCut,
        secondAnswer: answer.answeredMs === undefined ? 'none' : answer.tpkt ? 'TPKT' : 'not TPKT',
      };
    } finally {
      first.socket.destroy();
      if (!('error' in second)) second.socket.destroy();
    }
  }

  /**
   * Whether the pipe still accepts connections `forMs` after the VM stopped: the worker
   * tears its pipe down as it exits, which need not be over when the exit is reported,
   * so one connection right after stop would call a pipe on its way out "still there".
   */
  async #pipeStays(pipe: string, forMs: number): Promise<boolean> {
    const deadline = performance.now() + forMs;
    for (;;) {
      if (!(await this.#pipeThere(pipe, 500))) return false;
      if (performance.now() >= deadline) return true;
      await sleep(100, this.ctx.signal);
    }
  }

  async #pipeThere(pipe: string, withinMs = 2_000): Promise<boolean> {
    const connected = await connectWithin(pipe, withinMs, this.ctx.signal);
    if ('error' in connected) return false;
    connected.socket.destroy();
    return true;
  }

  async #update(sandbox: Sandbox): Promise<void> {
    try {
      await sandbox.update({ memoryMB: 6144 });
      this.seen.update = { accepted: true };
    } catch (error) {
      const unsupported = error instanceof LimitUpdateUnsupportedError;
      this.seen.update = { accepted: false, unsupported, error: (error as Error).message };
    }
  }

  /** What removing both sandboxes left: their disks' folders, their compute systems. */
  async #leftovers(sandboxes: Sandbox[]): Promise<string[]> {
    const root = new StateStore(this.ctx.home === undefined ? {} : { root: this.ctx.home }).root;
    const left = sandboxes
      .map((s) => join(root, 'scratch', s.name, 'os.vhdx'))
      .filter((path) => existsSync(path));
    const ids = new Set(sandboxes.map((s) => s.id));
    for (const system of await enumerateComputeSystems())
      if (ids.has(system.Id)) left.push(`compute system ${system.Id}`);
    const aces = this.seen.vmAces;
    if (aces?.before !== undefined && aces.after !== undefined && aces.after !== aces.before)
      left.push(`base.vhdx has ${aces.after} VM access entries, ${aces.before} before the probe`);
    return left;
  }
}

async function runVmBoot(ctx: ProbeContext, settings: VmBootSettings): Promise<ProbeItemResult> {
  if (settings.invalid) skip(settings.invalid);
  if (!settings.image)
    skip(
      'HCS_PROBE_VM_IMAGE is not set: name a ready VM image (`hcs-sandbox vm image ls`) to boot a sandbox from it',
    );
  if (ctx.host.elevated === false)
    skip("needs an elevated shell (a VM sandbox's disks, grants and compute system need Administrators)");
  const store = new VmImageStore(ctx.home === undefined ? {} : { root: ctx.home });
  const image = await store.get(settings.image);
  if (image?.status !== 'ready')
    skip(
      `HCS_PROBE_VM_IMAGE=${settings.image} names no ready VM image in ${store.dir} (build one: hcs-sandbox vm image build)`,
    );
  await serviceProperties(); // no computecore.dll: skipped as unavailable
  const run = new VmBootRun(ctx, settings, image);
  let error: unknown;
  try {
    await run.steps();
  } catch (caught) {
    if (caught instanceof ProbeSkip) throw caught;
    error = caught;
  }
  const verdicts = new RowVerdicts(VM_BOOT_ROWS);
  vmBootVerdicts(run.seen, verdicts);
  const result = verdicts.result({ ...run.seen }, error);
  if (run.seen.leftovers?.length)
    return {
      ...result,
      outcome: 'fail',
      reason: `left behind: ${run.seen.leftovers.join(', ')} (${result.reason})`,
    };
  return result;
}

/** The `vm.boot` item, reading its settings when it runs (tests pass theirs). */
export function vmBootItem(settings: () => VmBootSettings = () => vmBootSettings()): ProbeItem {
  return {
    id: 'vm.boot',
    title:
      'a VM sandbox boots from a ready VM image: documents accepted, the screen answers, view, pause, shutdown, update, rm',
    rows: [...VM_BOOT_ROWS],
    get timeoutMs() {
      const s = settings();
      // Two creates and starts, the boot wait, the screen waits, a 60 s guest shutdown, two removals.
      return s.bootWaitMs + 3 * s.screenWaitMs + 10 * 60_000;
    },
    run: (ctx) => runVmBoot(ctx, settings()),
  };
}
