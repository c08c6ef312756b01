import { type ErrorKind, HcsSandboxError } from '../../internal/errors.js';
import { Win32ErrorCode } from './types.js';

const NAMES = new Map<number, string>(Object.entries(Win32ErrorCode).map(([name, code]) => [code, name]));

/**
 * A kernel32 call failed. `errorCode` is the `GetLastError` value read on the
 * same thread straight after the call; `functionName` is the Win32 function.
 */
export class Win32CallError extends HcsSandboxError {
  readonly functionName: string;
  readonly errorCode: number;

  /** Windows refused the call, like an HRESULT from HCS. */
  override get kind(): ErrorKind {
    return 'host';
  }

  constructor(functionName: string, errorCode: number, detail?: string) {
    const name = NAMES.get(errorCode);
    super(
      'WIN32_ERROR',
      `${functionName} failed with Win32 error ${errorCode}${name ? ` (${name})` : ''}${detail ? `: ${detail}` : ''}`,
    );
    this.functionName = functionName;
    this.errorCode = errorCode;
  }
}
