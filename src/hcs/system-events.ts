/**
 * What a compute system's event callback delivers, translated from the raw
 * `HCS_EVENT` record into a typed event. Pure: the state changes that some
 * events imply (exit status, disconnect) stay with ComputeSystem.
 */
import { type HcsEventRecord, HcsEventType } from '../native/index.js';
import { parseJson } from './system-document.js';

/** `SystemExitStatus`, the payload of the SystemExited event. */
export interface SystemExitStatus {
  Status?: number;
  ExitType?: 'GracefulExit' | 'ForcedExit' | 'UnexpectedExit' | 'None' | 'Unknown' | string;
  Attribution?: unknown[];
}

export type ComputeSystemEvent =
  | { type: 'exited'; status: SystemExitStatus }
  | { type: 'crashInitiated'; report: unknown }
  | { type: 'crashReport'; report: unknown }
  | { type: 'rdpEnhancedModeStateChanged'; data: unknown }
  | { type: 'siloJobCreated'; data: unknown }
  | { type: 'guestConnectionClosed'; data: unknown }
  | { type: 'serviceDisconnected' }
  | { type: 'other'; eventType: number; data: string | null };

/** Translates one system event; unknown types pass through with their raw data. */
export function toSystemEvent(event: HcsEventRecord): ComputeSystemEvent {
  const data = parseJson(event.eventData);
  switch (event.type) {
    case HcsEventType.SystemExited:
      return { type: 'exited', status: (data && typeof data === 'object' ? data : {}) as SystemExitStatus };
    case HcsEventType.SystemCrashInitiated:
      return { type: 'crashInitiated', report: data };
    case HcsEventType.SystemCrashReport:
      return { type: 'crashReport', report: data };
    case HcsEventType.SystemRdpEnhancedModeStateChanged:
      return { type: 'rdpEnhancedModeStateChanged', data };
    case HcsEventType.SystemSiloJobCreated:
      return { type: 'siloJobCreated', data };
    case HcsEventType.SystemGuestConnectionClosed:
      return { type: 'guestConnectionClosed', data };
    case HcsEventType.ServiceDisconnect:
      return { type: 'serviceDisconnected' };
    default:
      return { type: 'other', eventType: event.type, data: event.eventData };
  }
}
