import type { ViewEndReason, ViewEvent } from '../../index.js';
import { type CommandModule, flagValue, type Io, UsageError } from '../command.js';
import { printJson } from '../json.js';
import { sdk } from '../sdk.js';

export type ViewPlan = { kind: 'view'; name: string; launch: boolean; port: number; json: boolean };

const parsePort = flagValue((value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new UsageError('expected a port from 0 to 65535 (0: a free one)');
  return n;
});

/** What the CLI says (on stderr) when something happens to a viewer. */
export function describeViewEvent(event: ViewEvent): string {
  switch (event.type) {
    case 'viewer-connected':
      return `viewer connected (${event.viewer})`;
    case 'viewer-refused':
      return `a viewer is already connected: refused the second one (${event.viewer}); one viewer at a time, close the first to take over`;
    case 'viewer-closed':
      return `viewer disconnected (${event.viewer})${event.error ? `: ${event.error.message}` : ''}`;
    case 'pipe-unavailable':
      return `cannot open the VM's screen (${event.pipe}): ${event.error.message}; the viewer was disconnected`;
  }
}

const ENDINGS: Record<ViewEndReason, string> = {
  closed: 'view closed',
  aborted: 'view stopped',
  'vm-stopped': 'the VM stopped: view closed',
  'viewer-exited': 'the viewer closed: view closed',
};

export const viewCommand: CommandModule<ViewPlan> = {
  verbs: ['view'],
  kinds: ['view'],
  register(program, accept) {
    program
      .command('view')
      .description(
        "show a VM sandbox's screen: relays it to an RDP port on 127.0.0.1 and opens mstsc (one viewer at a time)",
      )
      .argument('<name>', 'a running sandbox with isolation vm')
      .option('--no-launch', 'do not open mstsc: print the port and the .rdp file for another RDP client')
      .option('--port <N>', 'the loopback port to relay (default: a free one)', parsePort, 0)
      .option(
        '--json',
        'print {port, rdpFile, pipe} as JSON (then relay until Ctrl-C or the VM stops)',
        false,
      )
      .addHelpText(
        'after',
        '\nThe relay runs until the viewer closes (with mstsc), Ctrl-C, or the VM stops. Another RDP client\n' +
          'must use standard RDP security without NLA (e.g. xfreerdp /v:127.0.0.1:PORT /sec:rdp /cert:ignore).\n',
      )
      .action((name: string, opts: { launch: boolean; port: number; json: boolean }) =>
        accept({ kind: 'view', name, launch: opts.launch, port: opts.port, json: opts.json }),
      );
  },
  async run(plan, io) {
    const sandbox = await sdk().Sandbox.open(plan.name);
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      const view = await sandbox.view({
        port: plan.port,
        launch: plan.launch,
        signal: controller.signal,
        onEvent: (event) => io.err(`${describeViewEvent(event)}\n`),
      });
      printStarted(io, plan, view);
      const reason = await view.done;
      io.err(`${ENDINGS[reason]}\n`);
      return reason === 'aborted' ? 130 : 0;
    } finally {
      process.off('SIGINT', onSigint);
      await sandbox.close();
    }
  },
};

function printStarted(io: Io, plan: ViewPlan, view: { port: number; rdpFile: string; pipe: string }): void {
  if (plan.json) {
    printJson(io, { port: view.port, rdpFile: view.rdpFile, pipe: view.pipe });
    return;
  }
  io.out(`${plan.name}: screen relayed on 127.0.0.1:${view.port}\n`);
  io.out(`rdp file: ${view.rdpFile}\n`);
  if (!plan.launch) io.out('connect an RDP client (standard RDP security, no NLA) or open the rdp file\n');
  io.out('press Ctrl-C to stop\n');
}
