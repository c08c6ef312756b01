import {
  type RefreshVmImageAgentOptions,
  restageVmImageAgent,
  VmImageInUseError,
  type VmImageRecord,
  VmImageStore,
} from '../storage/index.js';
import { StateStore } from './state-store.js';

export interface VmImageRemoveOptions {
  /** The store root (default `%ProgramData%\hcs-sandbox`, or `HCS_SANDBOX_HOME`), as for sandboxes. */
  home?: string;
}

/** The names of the VM sandboxes whose disks difference over image `name`. */
export async function vmImageUsers(name: string, options: VmImageRemoveOptions = {}): Promise<string[]> {
  const state = new StateStore(options.home === undefined ? {} : { root: options.home });
  // A record that cannot be read is skipped here: gc reports it; it cannot name a VM image we could check.
  const records = await state.listRecords({ skipCorrupt: true });
  return records.filter((r) => r.isolation === 'vm' && r.image === name).map((r) => r.name);
}

/**
 * Removes VM image `name` (a ready one, or an interrupted build), refusing
 * with {@link VmImageInUseError} while a sandbox's record names it: its
 * differencing disk would lose its parent.
 */
export async function removeVmImage(
  name: string,
  options: VmImageRemoveOptions = {},
): Promise<VmImageRecord> {
  const store = new VmImageStore(options.home === undefined ? {} : { root: options.home });
  store.pathsOf(name); // validates the name before anything is read
  const users = await vmImageUsers(name, options);
  if (users.length > 0) throw new VmImageInUseError(name, users);
  return store.remove(name);
}

/**
 * Stages the guest agent into ready VM image `name` again (`vm image build
 * --agent-only`), refusing with {@link VmImageInUseError} while a sandbox's
 * disk differences over it: a child disk no longer matches a changed parent.
 */
export async function refreshVmImageAgent(
  name: string,
  options: VmImageRemoveOptions & Omit<RefreshVmImageAgentOptions, 'store'> = {},
): Promise<VmImageRecord> {
  const { home, ...refresh } = options;
  const store = new VmImageStore(home === undefined ? {} : { root: home });
  store.pathsOf(name);
  const users = await vmImageUsers(name, options);
  if (users.length > 0) throw new VmImageInUseError(name, users);
  return restageVmImageAgent(name, { ...refresh, store });
}
