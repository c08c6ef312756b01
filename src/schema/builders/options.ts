/**
 * Option documents for shutdown, terminate, save, pause, crash and signal calls,
 * and process modify requests (HCS-NOTES §5d, §5h).
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type * as Hcs from '../generated/hcs.js';
import {
  checkBoolean,
  checkEnum,
  checkHost,
  checkHostPath,
  checkInteger,
  checkText,
  type HostFacts,
} from './common.js';

export interface ShutdownOptionsInput {
  /** How to ask the guest: the guest agent (GCS) or the Shutdown integration service. */
  mechanism?: Hcs.ShutdownMechanism;
  type?: Hcs.ShutdownType;
  force?: boolean;
  reason?: string;
}

/**
 * `ShutdownOptions` for `HcsShutDownComputeSystem` (schema 2.5+). With no
 * argument returns `null`: pass NULL, which every schema version accepts.
 */
export function buildShutdownOptions(input?: ShutdownOptionsInput): Hcs.ShutdownOptions | null {
  if (input === undefined) return null;
  if (typeof input !== 'object' || input === null)
    throw new InvalidArgumentError('options', 'an object', input);
  const out: Hcs.ShutdownOptions = {};
  if (input.mechanism !== undefined) {
    out.Mechanism = checkEnum('mechanism', input.mechanism, ['GuestConnection', 'IntegrationService']);
  }
  if (input.type !== undefined) out.Type = checkEnum('type', input.type, ['Shutdown', 'Hibernate', 'Reboot']);
  if (input.force !== undefined) out.Force = checkBoolean('force', input.force);
  if (input.reason !== undefined) out.Reason = checkText('reason', input.reason, { max: 1024 });
  return out;
}

/** `HcsTerminateComputeSystem` takes no options document: always `null` (pass NULL). */
export function buildTerminateOptions(): null {
  return null;
}

export interface SaveOptionsInput {
  saveType: Hcs.SaveType;
  /** Required for `ToFile`: where the `.vmrs` goes. */
  saveStateFilePath?: string;
  host?: HostFacts;
}

/** `SaveOptions` for `HcsSaveComputeSystem` (the system must be paused first). */
export function buildSaveOptions(input: SaveOptionsInput): Hcs.SaveOptions {
  if (typeof input !== 'object' || input === null)
    throw new InvalidArgumentError('options', 'an object', input);
  checkHost(input.host);
  const saveType = checkEnum('saveType', input.saveType, ['ToFile', 'AsTemplate']);
  const out: Hcs.SaveOptions = { SaveType: saveType };
  if (saveType === 'ToFile' && input.saveStateFilePath === undefined) {
    throw new InvalidArgumentError(
      'saveStateFilePath',
      'an absolute host path when saveType is "ToFile"',
      undefined,
    );
  }
  if (input.saveStateFilePath !== undefined) {
    out.SaveStateFilePath = checkHostPath('saveStateFilePath', input.saveStateFilePath);
  }
  return out;
}

export interface PauseOptionsInput {
  suspensionLevel?: Hcs.PauseSuspensionLevel;
  /** Why the pause happens (`Save` before a save, `Template` before saving as template). */
  reason?: Hcs.PauseReason;
}

/** `PauseOptions` for `HcsPauseComputeSystem`; `null` (pass NULL) with no argument. */
export function buildPauseOptions(input?: PauseOptionsInput): Hcs.PauseOptions | null {
  if (input === undefined) return null;
  if (typeof input !== 'object' || input === null)
    throw new InvalidArgumentError('options', 'an object', input);
  const out: Hcs.PauseOptions = {};
  if (input.suspensionLevel !== undefined) {
    out.SuspensionLevel = checkEnum('suspensionLevel', input.suspensionLevel, [
      'Suspend',
      'MemoryLow',
      'MemoryMedium',
      'MemoryHigh',
    ]);
  }
  if (input.reason !== undefined) {
    out.HostedNotification = { Reason: checkEnum('reason', input.reason, ['None', 'Save', 'Template']) };
  }
  return out;
}

/** `CrashOptions` for `HcsCrashComputeSystem` (schema 2.3+): inject a guest crash. */
export function buildCrashOptions(): Hcs.CrashOptions {
  return { Type: 'CrashGuest' };
}

export const PROCESS_SIGNALS: readonly Hcs.ProcessSignal[] = [
  'CtrlC',
  'CtrlBreak',
  'CtrlClose',
  'CtrlLogOff',
  'CtrlShutdown',
];

/** `SignalProcessOptions` for `HcsSignalProcess` (Windows guests). */
export function buildSignalOptions(signal: Hcs.ProcessSignal): Hcs.SignalProcessOptions {
  return { Signal: checkEnum('signal', signal, PROCESS_SIGNALS) };
}

/** `ProcessModifyRequest` resizing a pseudo console (`HcsModifyProcess`). */
export function buildConsoleResizeRequest(size: { height: number; width: number }): Hcs.ProcessModifyRequest {
  if (typeof size !== 'object' || size === null) throw new InvalidArgumentError('size', 'an object', size);
  return {
    Operation: 'ConsoleSize',
    ConsoleSize: {
      Height: checkInteger('size.height', size.height, 1, 65535),
      Width: checkInteger('size.width', size.width, 1, 65535),
    },
  };
}

/** `ProcessModifyRequest` closing a standard handle (e.g. `StdIn` to send EOF). */
export function buildCloseHandleRequest(handle: Hcs.StdHandle): Hcs.ProcessModifyRequest {
  return {
    Operation: 'CloseHandle',
    CloseHandle: { Handle: checkEnum('handle', handle, ['StdIn', 'StdOut', 'StdErr', 'All']) },
  };
}
