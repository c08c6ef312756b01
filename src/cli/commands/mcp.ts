import type { Command } from 'commander';
import type { SandboxHost, SessionEnd } from '../../mcp/index.js';
import type { CommandModule, Io } from '../command.js';
import { packageVersion } from '../package-version.js';
import { connectTarget } from '../remote-token.js';
import { sdk } from '../sdk.js';

export type McpPlan = { kind: 'mcp'; host: string | undefined };

export const mcpCommand: CommandModule<McpPlan> = {
  verbs: ['mcp'],
  kinds: ['mcp'],
  register(program, accept) {
    program
      .command('mcp')
      .description('serve sandbox tools to an AI agent over MCP (stdio): create, run, files, list, remove')
      .option('--host <url>', 'drive the sandboxes of a remote `hcs-sandbox serve` instead of this machine')
      .addHelpText(
        'after',
        '\nSpeaks the Model Context Protocol on stdin/stdout; start it from an MCP client (Claude Desktop,\n' +
          'VS Code...), see docs/mcp.md. Sandboxes the session creates are removed when it ends (stdin\n' +
          'closed, SIGTERM or Ctrl-C) unless created with persistent: true. Logs go to stderr.\n',
      )
      // The program's -H/--host is parsed first wherever it stands; after `mcp` it is this option.
      .action((_opts: { host?: string }, command: Command) =>
        accept({ kind: 'mcp', host: command.optsWithGlobals<{ host?: string }>().host }),
      );
  },
  async run(plan, io) {
    // `mcp --host URL` (as `hcs-sandbox -H URL mcp`, which remote-execute.ts runs): a remote serve's sandboxes.
    if (plan.host === undefined) return runMcp(io, sdk().Sandbox);
    const host = await connectTarget({ url: plan.host });
    try {
      return await runMcp(io, host);
    } finally {
      await host.close();
    }
  },
};

/**
 * Serves the MCP tools on stdio over `host`: this machine (`Sandbox` itself)
 * or a remote `hcs-sandbox serve` (`Sandbox.connect`); the tools see only the
 * `SandboxHost` shape, so they work the same on both.
 */
export async function runMcp(io: Io, host: SandboxHost): Promise<number> {
  // The MCP SDK (and zod) load here only: no other verb pays for them (scripts/bundle-cli.mjs).
  const { serveStdio } = await import('../../mcp/index.js');
  io.err(`hcs-sandbox mcp ${packageVersion()}: serving on stdio\n`);
  const end = await serveStdio({ host, version: packageVersion(), log: io.err });
  reportEnd(io, end);
  return end.failed.length === 0 ? 0 : 1;
}

/** What ending the session did, on stderr (stdout belonged to the protocol). */
export function reportEnd(io: Io, end: SessionEnd): void {
  const parts = [
    end.removed.length > 0 && `removed ${end.removed.join(', ')}`,
    end.kept.length > 0 && `kept (persistent) ${end.kept.join(', ')}`,
  ].filter(Boolean);
  io.err(`session ended${parts.length > 0 ? `: ${parts.join('; ')}` : ''}\n`);
  for (const failed of end.failed)
    io.err(`could not remove ${failed.name}: ${failed.code}: ${failed.message}\n`);
}
