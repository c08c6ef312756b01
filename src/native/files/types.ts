import type { Readable, Writable } from 'node:stream';
import type { Win32Handle } from '../shared/types.js';

/**
 * What the files API asks of ntdll to reach a mounted writable layer without
 * following its links: open one name relative to an open directory, read its
 * attributes from the handle, list a directory, move bytes. `ntdll.ts`
 * implements it with koffi; unit tests implement it over a Linux folder, with
 * symbolic links standing in for reparse points (`test/support/fake-files.ts`).
 * Nothing here mentions koffi.
 */

/** The NTSTATUS values the walker above tells apart (ntstatus.h). */
export const NtStatus = {
  Success: 0,
  ObjectNameNotFound: 0xc0000034,
  ObjectPathNotFound: 0xc000003a,
  NotADirectory: 0xc0000103,
  FileIsADirectory: 0xc00000ba,
  DirectoryNotEmpty: 0xc0000101,
  /** A read-only file, or one in use that cannot be deleted. */
  CannotDelete: 0xc0000121,
  /** `OBJ_DONT_REPARSE` met a reparse point the file system would have followed. */
  ReparsePointEncountered: 0xc000050b,
} as const;

/** FILE_ATTRIBUTE_* bits (winnt.h). */
export const FileAttribute = {
  ReadOnly: 0x1,
  Directory: 0x10,
  ReparsePoint: 0x400,
} as const;

/**
 * A reparse tag with the name-surrogate bit (winnt.h `IsReparseTagNameSurrogate`,
 * bit 29) points at another name: symbolic links (0xA000000C), junctions and
 * mount points (0xA0000003), WSL symlinks. Following one leaves the folder.
 */
export function isNameSurrogate(reparseTag: number): boolean {
  return (reparseTag & 0x20000000) !== 0;
}

export interface OpenChildRequest {
  /** One path component: no separators, never `.` or `..` (the caller checks). */
  name: string;
  /** `any`: a file or a folder, whichever it is (only to open an existing name). */
  kind: 'file' | 'directory' | 'any';
  access: 'read' | 'write';
  /** Create it when missing (FILE_OPEN_IF); an existing one is opened, never truncated. */
  create: boolean;
  /**
   * `open-link`: FILE_OPEN_REPARSE_POINT, a link is opened as itself (never
   * followed) and reported in `attributes`/`reparseTag`. `refuse`: opened
   * normally but with OBJ_DONT_REPARSE, so the kernel fails the open with
   * `ReparsePointEncountered` instead of following a link; for files a filter
   * serves (placeholders), which `open-link` would open raw.
   */
  links: 'open-link' | 'refuse';
}

export interface OpenedEntry {
  handle: Win32Handle;
  /** FILE_ATTRIBUTE_* read from the handle (FileAttributeTagInformation). */
  attributes: number;
  /** The reparse tag when `attributes` has ReparsePoint, else 0. */
  reparseTag: number;
}

export type OpenChildResult = { status: 0; entry: OpenedEntry } | { status: number; win32Error: number };

export interface DirectoryEntry {
  name: string;
  attributes: number;
  /** The reparse tag when `attributes` has ReparsePoint (FILE_FULL_DIR_INFORMATION.EaSize), else 0. */
  reparseTag: number;
  /** EndOfFile: the file's length in bytes. */
  size: number;
  /** LastWriteTime; undefined when the file system keeps none (0). */
  modified: Date | undefined;
}

export interface FilesNativeApi {
  /** Opens a folder of our own (the mounted volume's root) for relative opens. Throws `Win32CallError`. */
  openRoot(path: string): Win32Handle;
  /** Opens one name inside `parent` without following it. Never throws for NTSTATUS failures. */
  openChild(parent: Win32Handle, request: OpenChildRequest): OpenChildResult;
  /** The names in an open directory (never `.` or `..`), with their attributes as the listing gives them. */
  list(directory: Win32Handle): DirectoryEntry[];
  /** A stream of a file opened for reading; it owns the handle (closes it at its end or on error). */
  readable(file: Win32Handle): Readable;
  /** Truncates a file opened for writing and streams into it; it owns the handle. */
  writable(file: Win32Handle): Writable;
  /**
   * Deletes one name inside `parent` as itself: a link is deleted, never its
   * target (opened with FILE_OPEN_REPARSE_POINT). Answers the NTSTATUS: 0, or
   * e.g. `DirectoryNotEmpty`, `CannotDelete` (read-only), `ObjectNameNotFound`.
   */
  remove(parent: Win32Handle, name: string): number;
  close(handle: Win32Handle): void;
}
