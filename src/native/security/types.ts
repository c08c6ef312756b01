/**
 * What hcs-sandbox asks of its own process token (advapi32.dll).
 * `advapi32.ts` implements it with koffi; tests implement it in memory
 * (`test/support/fake-storage.ts`). Nothing here mentions koffi.
 *
 * The calls are synchronous: they return at once, and `GetLastError` must be
 * read on the thread that made the call.
 */

/** A privilege of the process token: listed in it at all, and enabled. */
export interface PrivilegeState {
  held: boolean;
  enabled: boolean;
}

/** The process token as far as HCS storage cares. */
export interface TokenStatus {
  /** `TokenElevation.TokenIsElevated`: not a UAC-filtered token. */
  elevated: boolean;
  /** `CheckTokenMembership` with BUILTIN\Administrators: the SID is present and enabled. */
  administrators: boolean;
  /** By privilege name (`SeBackupPrivilege`...), for the names asked about. */
  privileges: Record<string, PrivilegeState>;
}

export interface SecurityApi {
  /** Reads the process token: elevation, the Administrators group, and the named privileges. */
  processToken(privileges: readonly string[]): TokenStatus;
  /**
   * Enables the named privileges on the process token (AdjustTokenPrivileges).
   * Returns the names the token does not hold (ERROR_NOT_ALL_ASSIGNED); throws
   * `Win32CallError` when a call fails outright.
   */
  enableProcessPrivileges(privileges: readonly string[]): string[];
}

/** Privilege names (winnt.h `SE_*_NAME`). */
export const Privilege = {
  Backup: 'SeBackupPrivilege',
  Restore: 'SeRestorePrivilege',
  ManageVolume: 'SeManageVolumePrivilege',
} as const;

/** A file or folder's owner and DACL, as Windows reports them. */
export interface FileSecurityInfo {
  /** The owner SID in `S-1-...` form (never an SDDL alias). */
  owner: string;
  /** Owner and DACL in SDDL (`O:BAD:P(A;OICI;FA;;;SY)...`); well-known SIDs appear as aliases. */
  sddl: string;
}

/**
 * What hcs-sandbox asks of advapi32.dll about folders (the store root): read a
 * folder's owner and DACL, create a folder with a security descriptor, replace
 * a folder's DACL. `file-security.ts` implements it with koffi; tests pass
 * their own. Paths are followed if they are links: callers `lstat` first.
 */
export interface FileSecurityApi {
  /** GetFileSecurityW: the owner and DACL of `path`. */
  read(path: string): FileSecurityInfo;
  /**
   * CreateDirectoryW with the security descriptor `sddl`. Returns false when
   * something already exists at `path` (ERROR_ALREADY_EXISTS); throws
   * `Win32CallError` on any other failure.
   */
  createDirectory(path: string, sddl: string): boolean;
  /**
   * SetFileSecurityW with the DACL of `sddl` on `path` alone: unlike
   * SetNamedSecurityInfoW it does not walk the folder's children.
   */
  setDacl(path: string, sddl: string): void;
  /** The SID (`S-1-...`) of this process token's user. */
  processUserSid(): string;
}
