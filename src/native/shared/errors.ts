import { UnavailableError } from '../../internal/errors.js';

/**
 * HCS cannot be used on this machine at all: not Windows, a Windows build older
 * than 1809, or the features that bring computecore.dll are off. `reason` says
 * which; the message says how to fix it.
 */
export class HcsUnavailableError extends UnavailableError {
  readonly reason: 'not-windows' | 'windows-too-old' | 'dll-missing';
  readonly library: string;

  constructor(reason: HcsUnavailableError['reason'], library: string, message: string, cause?: unknown) {
    super('HCS_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
    this.reason = reason;
    this.library = library;
  }
}

/**
 * The DLL loaded, but this Windows build does not export the function (for
 * example HcsWaitForProcessExit before Windows Server 2022).
 */
export class FunctionUnavailableError extends UnavailableError {
  readonly library: string;
  readonly functionName: string;

  constructor(library: string, functionName: string, minimumBuild: string | undefined) {
    super(
      'HCS_FUNCTION_UNAVAILABLE',
      `${functionName} is not available in ${library} on this Windows build${
        minimumBuild ? ` (it needs ${minimumBuild} or newer)` : ''
      }. Update Windows, or use a feature that does not need it.`,
    );
    this.library = library;
    this.functionName = functionName;
  }
}
