import type { ImageRecord, RemoteHost, RemoteSandbox, SandboxInfo, SandboxOptions } from '../index.js';
import { fileError } from './cli-error.js';
import type { Io } from './command.js';
import { printImages } from './commands/image.js';
import type { CommandPlan } from './commands/index.js';
import { runMcp } from './commands/mcp.js';
import { execIn, streamCommand } from './commands/sandbox-exec.js';
import { printInfo, printSandboxes } from './commands/sandbox-read.js';
import { type SandboxSpec, sandboxOptions } from './commands/sandbox-spec.js';
import { absoluteHostPath, eachName } from './format.js';
import { printJson } from './json.js';
import type { Plan } from './plan.js';
import { progressReporter } from './progress.js';
import { connectTarget, type RemoteTarget } from './remote-token.js';
import { loadSdk, sdk } from './sdk.js';

export type { RemoteTarget };

/**
 * The CLI against a remote `hcs-sandbox serve` (`-H/--host URL` or
 * HCS_SANDBOX_HOST, as docker has DOCKER_HOST): the same plans as locally,
 * run through `Sandbox.connect()`'s `RemoteHost`. main.ts loads this module
 * only when a host is given, so local cold start is unchanged. Verbs that
 * need this machine (pause, logs, share, networks, jobs, ...) are refused
 * with `RemoteUnsupportedError`.
 */

type Runs<K extends CommandPlan['kind']> = Extract<CommandPlan, { kind: K }>;

/** The plan kinds a remote host runs. */
const REMOTE_KINDS: ReadonlySet<string> = new Set([
  'sandbox-ls',
  'sandbox-inspect',
  'sandbox-create',
  'sandbox-run',
  'sandbox-exec',
  'sandbox-cp',
  'sandbox-rm',
  'sandbox-stop',
  'sandbox-start',
  'sandbox-kill',
  'image-ls',
  'image-pull',
]);

/** Runs `plan` on the remote host `target`; returns the exit code. */
export async function executeRemote(plan: Plan, io: Io, target: RemoteTarget): Promise<number> {
  if (plan.kind === 'help') {
    io.out(plan.text);
    return 0;
  }
  await loadSdk();
  if (!REMOTE_KINDS.has(plan.kind) && plan.kind !== 'mcp') {
    const verb = plan.kind.replace(/^sandbox-/, '').replaceAll('-', ' ');
    throw new (sdk().RemoteUnsupportedError)(
      `\`hcs-sandbox ${verb}\``,
      'it works on this machine only; leave out --host (and HCS_SANDBOX_HOST)',
    );
  }
  const host = await connectTarget(target);
  try {
    // mcp's tools drive the remote host's sandboxes as they would this machine's.
    if (plan.kind === 'mcp') return await runMcp(io, host);
    return await runRemote(plan, io, host);
  } finally {
    await host.close();
  }
}

async function runRemote(plan: CommandPlan, io: Io, host: RemoteHost): Promise<number> {
  const each = (names: string[], fn: (sb: RemoteSandbox) => Promise<unknown>, print = true) =>
    eachName(io, names, async (name) => {
      const sandbox = await host.open(name);
      try {
        await fn(sandbox);
      } finally {
        await sandbox.close();
      }
      if (print) io.out(`${name}\n`);
    });
  switch (plan.kind) {
    case 'sandbox-ls':
      printSandboxes(io, await host.list(), plan);
      return 0;
    case 'sandbox-inspect': {
      const infos: SandboxInfo[] = [];
      if (plan.json) {
        for (const name of plan.names) infos.push(await (await host.open(name)).info());
        printJson(io, infos);
        return 0;
      }
      return each(
        plan.names,
        async (sb) => {
          if (infos.length > 0) io.out('\n');
          infos.push(await sb.info());
          printInfo(io, infos.at(-1)!);
        },
        false,
      );
    }
    case 'sandbox-create': {
      const sandbox = await createRemote(io, host, plan, true, false);
      await sandbox.close();
      io.out(`${sandbox.name}\n`);
      return 0;
    }
    case 'sandbox-run':
      return runOn(io, host, plan);
    case 'sandbox-exec':
      return execIn(io, await host.open(plan.name), plan);
    case 'sandbox-cp':
      return each(
        [plan.name],
        async (sb) => {
          const hostPath = absoluteHostPath(plan.hostPath);
          try {
            if (plan.direction === 'in') await sb.files.copyIn(hostPath, plan.sandboxPath);
            else await sb.files.copyOut(plan.sandboxPath, hostPath);
          } catch (error) {
            throw await fileError(
              error,
              plan.direction === 'in' ? hostPath : `${plan.name}:${plan.sandboxPath}`,
            );
          }
        },
        false,
      );
    case 'sandbox-stop':
      return each(plan.names, (sb) =>
        plan.timeSeconds === 0 ? sb.kill() : sb.stop({ timeoutMs: plan.timeSeconds * 1000 }),
      );
    case 'sandbox-kill':
      return each(plan.names, (sb) => sb.kill());
    case 'sandbox-start':
      return each(plan.names, (sb) => sb.start());
    case 'sandbox-rm':
      return each(plan.names, async (sb) => {
        const { status } = await sb.info();
        if (!plan.force && (status === 'running' || status === 'paused'))
          throw new (sdk().SandboxRunningError)(
            sb.name,
            status,
            'stop it first, or remove it anyway with rm -f',
          );
        await sb.remove();
      });
    case 'image-ls': {
      const images = await host.images.list();
      if (plan.json) printJson(io, images);
      else printImages(io, images as unknown as ImageRecord[]);
      return 0;
    }
    case 'image-pull': {
      const image = await pullRemote(io, host, plan.reference, plan.json);
      if (plan.json) printJson(io, image);
      else io.out(`pulled ${image.reference} (${String(image.osVersion ?? 'unknown build')})\n`);
      return 0;
    }
    default:
      throw new Error(`no remote runner for plans of kind ${plan.kind}`);
  }
}

/** `run` remotely: create, stream the command, then remove (--rm) or stop; `-d` only creates. */
async function runOn(io: Io, host: RemoteHost, plan: Runs<'sandbox-run'>): Promise<number> {
  if (plan.detach && plan.command.length > 0)
    throw new (sdk().RemoteUnsupportedError)(
      'A background command (`run -d IMAGE COMMAND`)',
      'the wire API v1 ends a command when its connection closes; `create`, `start`, then `exec` in the ' +
        'foreground',
    );
  const sandbox = await createRemote(io, host, plan, !plan.rm, true);
  if (plan.command.length === 0) {
    await sandbox.close();
    io.out(`${sandbox.name}\n`);
    return 0;
  }
  try {
    return await streamCommand(io, sandbox, plan.command, { interactive: plan.interactive, tty: plan.tty });
  } finally {
    // As locally: a sandbox whose main command ended is removed (--rm) or stopped.
    if (plan.rm) await sandbox.remove();
    else await sandbox.stop();
    await sandbox.close();
  }
}

/** Creates the sandbox on the host, pulling its image there first as the pull policy says. */
async function createRemote(
  io: Io,
  host: RemoteHost,
  spec: SandboxSpec,
  persistent: boolean,
  start: boolean,
): Promise<RemoteSandbox> {
  const { mappedFolders, ...rest } = sandboxOptions(spec, persistent, start);
  // Host folders are refused by the client, naming the field; an empty list is no folder at all.
  const options: SandboxOptions = {
    ...rest,
    ...(mappedFolders && mappedFolders.length > 0 && { mappedFolders }),
  };
  if (spec.pull === 'always') await pullRemote(io, host, spec.image, spec.quiet);
  try {
    return await host.create(options);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'IMAGE_NOT_FOUND' || spec.pull !== 'missing') throw error;
    if (!spec.quiet) io.err(`Unable to find image '${spec.image}' on ${host.url}; pulling it\n`);
    await pullRemote(io, host, spec.image, spec.quiet);
    return host.create(options);
  }
}

async function pullRemote(io: Io, host: RemoteHost, reference: string, silent: boolean) {
  const progress = progressReporter(io, { json: silent, tty: Boolean(process.stderr.isTTY) });
  try {
    return await host.images.pull(reference, {
      onProgress: (p) =>
        progress.onProgress({
          item: String(p.item),
          phase: String(p.phase),
          done: p.done ?? 0,
          ...(p.total !== undefined && { total: p.total }),
        }),
    });
  } finally {
    progress.stop();
  }
}
