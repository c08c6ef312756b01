/**
 * How much the MCP tools hand back. An agent's context window is small and
 * every byte a tool returns is read by the model, so output is capped well
 * below what the SDK or the remote API would carry (docs/mcp.md, "Caps").
 */

/** Characters of each of stdout and stderr `sandbox_run` returns. */
export const RUN_OUTPUT_CHARS = 20_000;

/** Of {@link RUN_OUTPUT_CHARS}, how many come from the start; the rest are the end (where errors usually are). */
export const RUN_OUTPUT_HEAD_CHARS = 5_000;

/**
 * Output (both streams, in characters) after which `sandbox_run` kills the
 * command: what it collected is held in memory until it exits, so a command
 * that writes without end must not take the server's memory with it.
 */
export const RUN_OUTPUT_KILL_CHARS = 16 * 1024 * 1024;

/** `sandbox_run`'s `timeoutMs` when none is given: below the 60 s an MCP client waits by default. */
export const RUN_DEFAULT_TIMEOUT_MS = 50_000;

/** The longest `timeoutMs` `sandbox_run` accepts (one hour). */
export const RUN_MAX_TIMEOUT_MS = 3_600_000;

/** Bytes of a file `sandbox_read_file` returns; a larger file is refused before it is read. */
export const READ_FILE_BYTES = 256 * 1024;

/** Bytes `sandbox_write_file` writes in one call. */
export const WRITE_FILE_BYTES = 1024 * 1024;

/** Entries `sandbox_list_files` returns (the first ones, by name). */
export const LIST_FILES_ENTRIES = 1_000;

/**
 * How long `sandbox_run` waits past `timeoutMs` for a killed command's output
 * to close. A process it started can hold the output open after the kill
 * (seen under the simulated host: `ping` outlived its `cmd`); the call then
 * returns what it has rather than wait for it.
 */
export const RUN_KILL_GRACE_MS = 5_000;
