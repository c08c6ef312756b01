import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createSandboxMcpServer, type SandboxMcpServerOptions } from './server.js';
import type { SessionEnd } from './session.js';

export interface StdioOptions extends SandboxMcpServerOptions {
  /** Default: the process's (tests pass streams). */
  stdin?: Readable;
  stdout?: Writable;
  /** Signals that end the session as stdin closing does (default SIGTERM, SIGINT). */
  signals?: readonly NodeJS.Signals[];
}

/**
 * Serves MCP over stdin/stdout until the client goes away (stdin closes) or
 * a signal arrives, then ends the session: its non-persistent sandboxes are
 * removed. Resolves with what the ending did.
 */
export async function serveStdio(options: StdioOptions): Promise<SessionEnd> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const { server, session } = createSandboxMcpServer(options);
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  for (const signal of signals) process.once(signal, stop);
  stdin.once('end', stop);
  stdin.once('close', stop);
  try {
    await server.connect(new StdioServerTransport(stdin, stdout));
    server.server.onclose = stop;
    await stopped;
  } finally {
    for (const signal of signals) process.off(signal, stop);
  }
  const ending = session.end();
  await server.close().catch(() => undefined);
  return ending;
}
