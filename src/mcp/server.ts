import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { SandboxHost } from '../sandbox/sandbox-host.js';
import { ToolNotApplicableError } from './errors.js';
import { McpSession } from './session.js';
import type { McpTool, ToolContext } from './tool.js';
import { type ToolCallResult, toolError, toolResult } from './tool-result.js';
import { TOOLS } from './tools/index.js';

export interface SandboxMcpServerOptions {
  /** Where sandboxes are made: `Sandbox` itself (this machine) or a remote host. */
  host: SandboxHost;
  /** The version the server reports to clients. */
  version: string;
  /** The tools offered (default: every tool of tools/index.ts). */
  tools?: readonly McpTool[];
  /** Where the server's own log goes (stderr for stdio: stdout carries the protocol). */
  log?: (text: string) => void;
}

export interface SandboxMcpServer {
  readonly server: McpServer;
  readonly session: McpSession;
}

/**
 * An MCP server offering the sandbox tools over `host`, with one session:
 * connect it to one transport (one client). End the session
 * (`session.end()`) when the client goes away, to remove its sandboxes.
 */
export function createSandboxMcpServer(options: SandboxMcpServerOptions): SandboxMcpServer {
  const log = options.log ?? (() => {});
  const session = new McpSession(options.host);
  const server = new McpServer(
    { name: 'hcs-sandbox', title: 'hcs-sandbox: Windows sandboxes', version: options.version },
    {
      instructions:
        'Windows sandboxes on demand: sandbox_create makes one, then sandbox_run, sandbox_read_file, ' +
        'sandbox_write_file and sandbox_list_files work inside it by name. Sandboxes you create are removed ' +
        'when this session ends unless created with persistent: true.',
    },
  );
  for (const tool of options.tools ?? TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        ...(tool.annotations && { annotations: tool.annotations }),
      },
      // The SDK has checked the arguments against tool.input before this runs.
      (args, extra) => call(tool, args, { host: options.host, session, signal: extra.signal }, log),
    );
  }
  return { server, session };
}

async function call(
  tool: McpTool,
  args: Record<string, unknown>,
  context: ToolContext,
  log: (text: string) => void,
): Promise<ToolCallResult> {
  try {
    if (tool.applies) {
      const name = String(args.sandbox);
      if (!tool.applies.check(await context.session.info(name)))
        throw new ToolNotApplicableError(tool.name, name, tool.applies.requirement);
    }
    return toolResult(await tool.run(args, context));
  } catch (error) {
    return toolError(error, log);
  }
}
