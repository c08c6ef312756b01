import type { z } from 'zod';
import type { SandboxInfo } from '../sandbox/info.js';
import type { SandboxHost } from '../sandbox/sandbox-host.js';
import type { McpSession } from './session.js';

/** What a tool's handler gets besides its arguments. */
export interface ToolContext {
  /** Where sandboxes are made and found: this machine, or a remote `serve`. */
  readonly host: SandboxHost;
  /** The sandboxes this MCP session made (removed when it ends unless persistent). */
  readonly session: McpSession;
  /** Aborts when the client cancels the call or the session ends. */
  readonly signal: AbortSignal;
}

/** An image a tool returns (a desktop tool's screenshot), base64. */
export interface ToolImage {
  data: string;
  mimeType: string;
}

/** What a handler returns: a JSON object (the model reads it), and images if any. */
export interface ToolOutput {
  result: Record<string, unknown>;
  images?: ToolImage[];
}

/**
 * One MCP tool, a module of its own (tools/). New tools join by adding a
 * module to tools/index.ts; nothing else changes. A tool that works on some
 * sandboxes only (desktop tools need a VM's screen) says so with `applies`:
 * the server then checks the sandbox its `sandbox` argument names before the
 * handler runs, and refuses others with TOOL_NOT_APPLICABLE.
 */
export interface McpTool<Shape extends z.ZodRawShape = z.ZodRawShape> {
  /** snake_case, `sandbox_` first: what the model calls. */
  readonly name: string;
  readonly title: string;
  /** Written for a model: what it does, when to use it, what comes back. */
  readonly description: string;
  /** Arguments, checked by the MCP SDK before the handler runs. */
  readonly input: Shape;
  readonly annotations?: {
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
  /** Which sandboxes the tool works on; absent: all. Needs a `sandbox` argument. */
  readonly applies?: {
    check(info: SandboxInfo): boolean;
    /** What a sandbox needs, for the refusal ("a VM sandbox (isolation vm)"). */
    requirement: string;
  };
  run(args: z.infer<z.ZodObject<Shape>>, context: ToolContext): Promise<ToolOutput>;
}

/** Declares a tool (types its handler's arguments from its input shape). */
export function defineTool<Shape extends z.ZodRawShape>(tool: McpTool<Shape>): McpTool<Shape> {
  return tool;
}
