import { HcsSandboxError } from '../internal/errors.js';
import type { ToolOutput } from './tool.js';

/** A tool call's result as MCP carries it (`CallToolResult`). */
export interface ToolCallResult {
  [key: string]: unknown;
  content: ({ type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string })[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** A handler's output: the JSON as text (what most clients show the model) and as structured content. */
export function toolResult(output: ToolOutput): ToolCallResult {
  return {
    content: [
      { type: 'text', text: JSON.stringify(output.result, null, 2) },
      ...(output.images ?? []).map((image) => ({ type: 'image' as const, ...image })),
    ],
    structuredContent: output.result,
  };
}

/** What a failed call reports: the product's code, kind and message, never a stack. */
export interface ToolErrorBody {
  code: string;
  kind: string;
  message: string;
  /** For INVALID_ARGUMENT: the argument or option at fault. */
  field?: string;
}

/**
 * A thrown error as an MCP tool error (`isError: true`), which the model
 * reads and can act on. Product errors keep their code and message; anything
 * else is a bug, reported as INTERNAL with its message only (the server logs
 * the stack to stderr, which MCP clients keep as the server's log).
 */
export function toolError(error: unknown, log: (text: string) => void): ToolCallResult {
  const body = errorBody(error);
  if (body.code === 'INTERNAL') log(`unexpected error in a tool call: ${(error as Error)?.stack ?? error}\n`);
  return {
    content: [{ type: 'text', text: `${body.code}: ${body.message}` }],
    structuredContent: { error: body },
    isError: true,
  };
}

function errorBody(error: unknown): ToolErrorBody {
  if (error instanceof HcsSandboxError) {
    const field = (error as { field?: unknown }).field;
    return {
      code: error.code,
      kind: error.kind,
      message: error.message,
      ...(typeof field === 'string' && { field }),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  // A product error from another copy of the package (a remote client's): its code and kind are the contract.
  const { code, kind } = (error ?? {}) as { code?: unknown; kind?: unknown };
  if (typeof code === 'string' && typeof kind === 'string') return { code, kind, message };
  return { code: 'INTERNAL', kind: 'failure', message };
}
