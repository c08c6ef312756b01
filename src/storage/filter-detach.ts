import { setTimeout as sleep } from 'node:timers/promises';
import { type HResult, storageBindings } from '../native/index.js';

/**
 * How long to keep asking HcsDetachLayerStorageFilter. Measured by hcsctl on a
 * real host (REAL-WINDOWS-AUDIT.md row 9): the filter refuses to detach
 * ("Do not detach…") for a few seconds after the container using the volume
 * is torn down, and about 10 tries 1 s apart get past it. The HRESULT of the
 * refusal was not recorded, so every failure is retried except the ones that
 * mean there is nothing left to detach.
 */
export const DETACH_RETRY = Object.freeze({ attempts: 10, intervalMs: 1000 });

/**
 * The retry in effect: {@link DETACH_RETRY}, or `HCS_SANDBOX_DETACH_ATTEMPTS`
 * / `HCS_SANDBOX_DETACH_INTERVAL_MS` from the environment (read on each call,
 * so a test, or a user on a slow host, can change them).
 */
export function detachRetry(env: NodeJS.ProcessEnv = process.env): { attempts: number; intervalMs: number } {
  return {
    attempts: positiveInt(env.HCS_SANDBOX_DETACH_ATTEMPTS, 1) ?? DETACH_RETRY.attempts,
    intervalMs: positiveInt(env.HCS_SANDBOX_DETACH_INTERVAL_MS, 0) ?? DETACH_RETRY.intervalMs,
  };
}

/**
 * HcsDetachLayerStorageFilter, retried while the filter refuses (see
 * {@link DETACH_RETRY}). Returns the last HRESULT.
 */
export async function detachStorageFilter(volumePath: string): Promise<HResult> {
  const { attempts, intervalMs } = detachRetry();
  let hr = await storageBindings().storage.detachLayerStorageFilter(volumePath);
  for (let attempt = 1; attempt < attempts && hr < 0 && !isNothingToDetach(hr); attempt++) {
    await sleep(intervalMs);
    hr = await storageBindings().storage.detachLayerStorageFilter(volumePath);
  }
  return hr;
}

/**
 * Failures no wait will change: the volume or filter is gone, or the call is
 * wrong. ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_NOT_FOUND,
 * ERROR_FLT_INSTANCE_NOT_FOUND (0x801F0015), E_INVALIDARG, HCS_E_INVALID_LAYER.
 */
export function isNothingToDetach(hr: HResult): boolean {
  const u = hr >>> 0;
  return (
    u === 0x80070002 ||
    u === 0x80070003 ||
    u === 0x80070490 ||
    u === 0x801f0015 ||
    u === 0x80070057 ||
    u === 0x80370112
  );
}

function positiveInt(text: string | undefined, min: number): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= min ? n : undefined;
}
