import { InvalidArgumentError } from '../../internal/errors.js';
import type { IsolationDriver } from './driver.js';

function notYet(): never {
  throw new InvalidArgumentError(
    'isolation',
    "'process' or 'hyperv' (Windows Sandbox-style 'vm' isolation is not available yet)",
    'vm',
  );
}

/**
 * Windows Sandbox-style VM isolation: a full Windows desktop VM per sandbox
 * over a differencing disk, driven through a guest agent. This is where it
 * goes (shared/docs/VM-SANDBOXES.md); until it is built, every step refuses
 * with the same clear error, before anything is resolved or created.
 */
export const vmDriver: IsolationDriver = {
  isolation: 'vm',
  checkOptions: notYet,
  checkImage: notYet,
  prepare: notYet,
  start: notYet,
  attach: async () => undefined,
  terminate: async () => undefined,
  teardown: async () => undefined,
  limitRequests: notYet,
  mapFolder: notYet,
  writableLayer: () => ({ unavailable: "'vm' isolation is not available yet" }),
};
