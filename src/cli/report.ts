import { UsageError } from './command.js';
import { isSdkError } from './sdk.js';

/**
 * How an error reads on the command line: one line, never a stack unless
 * `--debug` asked for it. main.ts prints it; `--json` prints {@link jsonError}.
 */

/**
 * An error's message and its causes' in one line (`fetch failed: connect
 * ECONNREFUSED 127.0.0.1:5000`). A cause whose message the outer one already
 * holds is skipped; an AggregateError (several addresses tried) lists each.
 */
export function messageChain(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = error; e !== undefined && e !== null && !seen.has(e); ) {
    seen.add(e);
    let text = e instanceof Error ? e.message : String(e);
    if (e instanceof AggregateError && e.errors.length > 0) {
      const inner = e.errors.map((x: unknown) => (x instanceof Error ? x.message : String(x)));
      text = [text, [...new Set(inner)].join(', ')].filter(Boolean).join(': ');
    }
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ') || String(error);
}

/** A Node system error (`ECONNREFUSED`, `ENOENT`) or fetch's network failure, anywhere in the chain. */
function isEnvironmentError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  }
  return isNetworkError(error);
}

const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|UND_ERR_\w+)$/;

/** fetch's network failure (`TypeError: fetch failed`) or a socket error, anywhere in the chain. */
export function isNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.test(code)) return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
  }
  return false;
}

/** The text main.ts prints on stderr for the error that ended a command. */
export function errorText(error: unknown, debug: boolean): string {
  if (error instanceof UsageError) {
    const help = error.verb ? `hcs-sandbox ${error.verb} --help` : 'hcs-sandbox --help';
    return `hcs-sandbox: ${error.message}\nRun '${help}' for usage.\n`;
  }
  const stack = debug && error instanceof Error ? `${stackChain(error)}\n` : '';
  if (isSdkError(error, (l) => l.HcsSandboxError)) return `hcs-sandbox: ${error.message}\n${stack}`;
  if (isEnvironmentError(error)) return `hcs-sandbox: ${messageChain(error)}\n${stack}`;
  const name = error instanceof Error ? `${error.name}: ` : '';
  return debug
    ? `hcs-sandbox: unexpected error: ${stack}`
    : `hcs-sandbox: unexpected error: ${name}${messageChain(error)} (--debug shows where)\n`;
}

function stackChain(error: Error): string {
  const lines = [error.stack ?? String(error)];
  for (let e = error.cause, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++)
    lines.push(`caused by: ${e.stack ?? e.message}`);
  return lines.join('\n');
}

/** What `--json` prints on stdout for a failure: `{"error":{"code","kind","message"}}`. */
export function jsonError(error: unknown): { error: { code: string; kind: string; message: string } } {
  if (error instanceof UsageError || isSdkError(error, (l) => l.HcsSandboxError))
    return { error: { code: error.code, kind: error.kind, message: error.message } };
  const code = (error as { code?: unknown } | null)?.code;
  return {
    error: {
      code: typeof code === 'string' ? code : 'UNEXPECTED',
      kind: 'failure',
      message: messageChain(error),
    },
  };
}
