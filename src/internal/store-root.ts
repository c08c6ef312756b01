import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

/** What `storeRoot` reads; each defaults to this process's (tests pass their own). */
export interface StoreRootInputs {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/**
 * The folder where hcs-sandbox keeps sandbox state and images, when nothing
 * says otherwise: `HCS_SANDBOX_HOME` (resolved), else `%ProgramData%\hcs-sandbox`
 * on Windows, else `~/.hcs-sandbox` (so unit tests and tools on other systems
 * never write under a `C:\ProgramData` folder in the working directory). The
 * state store and the image store must agree on it: a sandbox records layer
 * paths inside the image store.
 */
export function storeRoot(inputs: StoreRootInputs = {}): string {
  const env = inputs.env ?? process.env;
  const platform = inputs.platform ?? process.platform;
  const path = platform === 'win32' ? win32 : posix;
  const override = env.HCS_SANDBOX_HOME;
  if (override !== undefined && override !== '') return path.resolve(override);
  if (platform === 'win32') {
    const programData = env.ProgramData ?? env.PROGRAMDATA ?? env.ALLUSERSPROFILE ?? 'C:\\ProgramData';
    return win32.join(programData, 'hcs-sandbox');
  }
  return posix.join(inputs.home ?? homedir(), '.hcs-sandbox');
}
