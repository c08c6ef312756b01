/**
 * The MCP server (`hcs-sandbox mcp`): sandbox tools for AI agents over any
 * `SandboxHost`. A layer above sandbox/: it sees sandboxes only through the
 * SandboxHost/SandboxLike types, so a local host and a remote one serve the
 * same tools. The CLI loads this entry (and the MCP SDK) only for `mcp`.
 */

export type { SandboxHost, SandboxLike } from '../sandbox/sandbox-host.js';
export { FileTooLargeError, SessionEndedError, ToolNotApplicableError } from './errors.js';
export * as limits from './limits.js';
export { createSandboxMcpServer, type SandboxMcpServer, type SandboxMcpServerOptions } from './server.js';
export { McpSession, type SessionEnd } from './session.js';
export { type StdioOptions, serveStdio } from './stdio.js';
export { defineTool, type McpTool, type ToolContext, type ToolImage, type ToolOutput } from './tool.js';
export { TOOLS } from './tools/index.js';
