/**
 * Just enough SDDL (Security Descriptor Definition Language) to judge a
 * folder's DACL: which trustees an allow ACE names. The format:
 * https://learn.microsoft.com/windows/win32/secauthz/security-descriptor-string-format
 * (`O:<owner>G:<group>D:<flags>(<type>;<flags>;<rights>;<object>;<inherit object>;<sid>)...`).
 */

/** Well-known SIDs by the SDDL alias Windows prints for them (sddl.h `SDDL_*`). */
const ALIASES: Record<string, string> = {
  SY: 'S-1-5-18', // LocalSystem
  BA: 'S-1-5-32-544', // BUILTIN\Administrators
  OW: 'S-1-3-4', // OWNER RIGHTS: whoever owns the object
  CO: 'S-1-3-0', // CREATOR OWNER: the creator of a child (inherit-only)
};

export const SYSTEM_SID = ALIASES.SY as string;
export const ADMINISTRATORS_SID = ALIASES.BA as string;

/** ACE types that deny (sddl.h `SDDL_ACCESS_DENIED`, object and callback forms). */
const DENY_TYPES = new Set(['D', 'OD', 'XD']);
/** ACE types of a SACL (audit, alarm, label, attributes): they grant nothing. */
const SACL_TYPES = new Set(['AU', 'AL', 'OU', 'OL', 'ML', 'RA', 'SP', 'SA', 'XU', 'ZA']);

/** A SID in `S-1-...` form: an alias Windows printed is expanded; other aliases stay as they are. */
export function sidOf(trustee: string): string {
  return ALIASES[trustee] ?? trustee;
}

/**
 * The trustees the DACL of `sddl` grants any access to, as printed (`BU`,
 * `WD`, `S-1-5-21-...`). `null` when the descriptor has no DACL or a NULL
 * DACL: everyone has every access.
 */
export function allowedTrustees(sddl: string): string[] | null {
  const dacl = /D:([^(]*)((?:\([^)]*\))*)/.exec(sddl);
  if (!dacl || /NO_ACCESS_CONTROL/.test(dacl[1] ?? '')) return null;
  const trustees: string[] = [];
  for (const ace of (dacl[2] ?? '').matchAll(/\(([^)]*)\)/g)) {
    const fields = (ace[1] ?? '').split(';');
    const type = fields[0] ?? '';
    if (DENY_TYPES.has(type) || SACL_TYPES.has(type)) continue;
    trustees.push(fields[5] ?? '');
  }
  return trustees;
}

/**
 * The trustees of `sddl`'s DACL other than LocalSystem, Administrators, the
 * owner-relative SIDs and `trusted` (`S-1-...` form): who else can reach the
 * folder. `['Everyone (NULL DACL)']` for a missing or NULL DACL.
 */
export function untrustedTrustees(sddl: string, trusted: readonly string[]): string[] {
  const trustees = allowedTrustees(sddl);
  if (trustees === null) return ['Everyone (NULL DACL)'];
  const ok = new Set([...Object.values(ALIASES), ...trusted.map((s) => s.toUpperCase())]);
  return [...new Set(trustees.filter((t) => !ok.has(sidOf(t).toUpperCase())))];
}
