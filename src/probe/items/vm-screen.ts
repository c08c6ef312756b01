import { connect, type Socket } from 'node:net';
import { since } from './verdicts.js';

/**
 * Asking a VM's screen whether it is there: the VM worker serves the video
 * card as an RDP server on a named pipe, and an RDP server answers an X.224
 * Connection Request with a TPKT-framed Connection Confirm before any
 * security is negotiated (MS-RDPBCGR 2.2.1.1 and 2.2.1.2). disco-vm's console
 * test checks its pipe the same way (`rdpAnswers`). Nothing here decodes more
 * than the first bytes of the answer: the session itself is mstsc's business.
 */

/**
 * TPKT (version 3, length 19) + X.224 Connection Request (LI 14, code 0xE0,
 * references and class 0) + RDP_NEG_REQ asking for standard RDP security
 * (type 1, length 8, requestedProtocols PROTOCOL_RDP = 0): MS-RDPBCGR 2.2.1.1.
 */
export const X224_CONNECTION_REQUEST = Buffer.from([
  0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
  0x00,
]);
/** The X.224 Connection Confirm code (MS-RDPBCGR 2.2.1.2: `x224Ccf`, byte 5 after TPKT and LI). */
const X224_CONNECTION_CONFIRM = 0xd0;
/** How often a pipe that is not there yet is tried again. */
const RETRY_MS = 500;

/** Where a screen is reached: a pipe or socket path, or a loopback TCP port (the view relay). */
export type ScreenTarget = string | { host: string; port: number };

export interface Connected {
  socket: Socket;
  connectedMs: number;
  attempts: number;
}

export interface NotConnected {
  error: string;
  attempts: number;
}

function tryConnect(target: ScreenTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = typeof target === 'string' ? connect(target) : connect(target.port, target.host);
    socket.once('connect', () => {
      socket.off('error', reject);
      // An error after connecting (the far side cut us off) is seen as 'close'; unhandled it would throw.
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Connects to `target`, trying again until `withinMs` has passed (a VM's pipe appears when its worker serves it). */
export async function connectWithin(
  target: ScreenTarget,
  withinMs: number,
  signal?: AbortSignal,
): Promise<Connected | NotConnected> {
  const started = performance.now();
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const socket = await tryConnect(target);
      return { socket, connectedMs: since(started), attempts };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      if (since(started) + RETRY_MS > withinMs || signal?.aborted) return { error: code, attempts };
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}

export interface ScreenAnswer {
  /** Milliseconds from the request to the first bytes, or undefined when none came. */
  answeredMs?: number;
  /** The first bytes of the answer, hex. */
  firstBytes?: string;
  /** The answer starts with a TPKT header (version 3, reserved 0). */
  tpkt: boolean;
  /** It is an X.224 Connection Confirm. */
  connectionConfirm: boolean;
  /** The far side closed the connection before answering. */
  closed: boolean;
}

/** Sends the X.224 Connection Request on `socket` and waits up to `withinMs` for the first bytes back. */
export function requestAnswer(socket: Socket, withinMs: number): Promise<ScreenAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const finish = (answer: ScreenAnswer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(answer);
    };
    const onData = (chunk: Buffer) =>
      finish({
        answeredMs: since(started),
        firstBytes: chunk.subarray(0, 16).toString('hex'),
        tpkt: chunk[0] === 0x03 && chunk[1] === 0x00,
        connectionConfirm: chunk[5] === X224_CONNECTION_CONFIRM,
        closed: false,
      });
    const onClose = () => finish({ tpkt: false, connectionConfirm: false, closed: true });
    const timer = setTimeout(
      () => finish({ tpkt: false, connectionConfirm: false, closed: false }),
      withinMs,
    );
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(X224_CONNECTION_REQUEST);
  });
}

/** Whether `socket` is closed by the far side within `withinMs`. */
export function closedWithin(socket: Socket, withinMs: number): Promise<boolean> {
  if (socket.closed || socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('close', onClose);
      resolve(false);
    }, withinMs);
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once('close', onClose);
  });
}

/** Connects, asks, closes: the whole question for one target. */
export async function askScreen(
  target: ScreenTarget,
  connectWithinMs: number,
  answerWithinMs: number,
  signal?: AbortSignal,
): Promise<(Omit<Connected, 'socket'> & ScreenAnswer) | NotConnected> {
  const connected = await connectWithin(target, connectWithinMs, signal);
  if ('error' in connected) return connected;
  try {
    const answer = await requestAnswer(connected.socket, answerWithinMs);
    return { connectedMs: connected.connectedMs, attempts: connected.attempts, ...answer };
  } finally {
    connected.socket.destroy();
  }
}

/** One line for a verdict: what the screen did. */
export function describeScreen(result: (Omit<Connected, 'socket'> & ScreenAnswer) | NotConnected): string {
  if ('error' in result) return `no connection (${result.error} after ${result.attempts} attempt(s))`;
  if (result.answeredMs === undefined)
    return result.closed
      ? `connected after ${result.connectedMs} ms, then closed without answering`
      : `connected after ${result.connectedMs} ms, no answer to the X.224 request`;
  return (
    `connected after ${result.connectedMs} ms, answered in ${result.answeredMs} ms ` +
    `(${result.tpkt ? 'TPKT' : 'not TPKT'}${result.connectionConfirm ? ', X.224 Connection Confirm' : ''}: ${result.firstBytes})`
  );
}
