import { mkdirSync } from 'node:fs';
import type { FileSecurityApi, FileSecurityInfo } from '../../src/native/index.js';

/** The fake process user's SID. */
export const FAKE_USER_SID = 'S-1-5-21-1-2-3-1001';

/**
 * An in-memory advapi32 for folder descriptors: `createDirectory` makes the
 * folder on disk and remembers its descriptor (owned by `ownerOfNew`, as an
 * elevated administrator's folders are by BUILTIN\Administrators); `read` of a
 * folder it did not make answers `existing` (default: what an older version left
 * under %ProgramData%, Users able to read and create). Records every call.
 */
export class FakeFileSecurity implements FileSecurityApi {
  readonly calls: { fn: string; path: string; sddl?: string }[] = [];
  readonly descriptors = new Map<string, FileSecurityInfo>();
  ownerOfNew = 'S-1-5-32-544';
  existing: FileSecurityInfo = {
    owner: 'S-1-5-32-544',
    sddl: 'O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)',
  };

  read(path: string): FileSecurityInfo {
    this.calls.push({ fn: 'GetFileSecurityW', path });
    return this.descriptors.get(path) ?? this.existing;
  }

  createDirectory(path: string, sddl: string): boolean {
    this.calls.push({ fn: 'CreateDirectoryW', path, sddl });
    try {
      mkdirSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    this.descriptors.set(path, { owner: this.ownerOfNew, sddl: `O:${this.ownerOfNew}${sddl}` });
    return true;
  }

  setDacl(path: string, sddl: string): void {
    this.calls.push({ fn: 'SetFileSecurityW', path, sddl });
    const owner = (this.descriptors.get(path) ?? this.existing).owner;
    this.descriptors.set(path, { owner, sddl: `O:${owner}${sddl}` });
  }

  processUserSid(): string {
    return FAKE_USER_SID;
  }
}
