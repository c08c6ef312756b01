/**
 * One NDJSON line per request on the server's log stream (stderr): what a
 * reader needs to follow traffic and nothing a reader could abuse. The route
 * is its template (`/v1/sandboxes/{name}`), the sandbox its own field; never
 * a token (only the token's name), a body, a query string or a header.
 */
export interface RequestLogLine {
  time: string;
  method: string;
  route: string;
  sandbox?: string;
  status: number;
  ms: number;
  token?: string;
  /** The error code answered, for statuses >= 400. */
  code?: string;
}

export type LogSink = (line: string) => void;

export function stderrSink(line: string): void {
  process.stderr.write(line);
}

export function logLine(sink: LogSink, fields: Omit<RequestLogLine, 'time'> | Record<string, unknown>): void {
  sink(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}
