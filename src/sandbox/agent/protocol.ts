/**
 * The agent protocol's numbers (docs/agent-protocol.md), mirrored from
 * agent/protocol.h. Change both together; a layout change bumps PROTOCOL_VERSION.
 */

export const PROTOCOL_VERSION = 1;
/** Header: u32 LE payload length, u8 type, u32 LE stream id. */
export const FRAME_HEADER_BYTES = 9;
/** The largest payload either side accepts; a bigger length ends the connection. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Data frames this client sends are at most this big (the agent's own chunk size). */
export const DATA_CHUNK_BYTES = 64 * 1024;

export const FrameType = {
  hello: 0x01,
  ready: 0x02,
  error: 0x03,
  ping: 0x04,
  pong: 0x05,
  exec: 0x10,
  started: 0x11,
  stdin: 0x12,
  stdinEof: 0x13,
  stdout: 0x14,
  stderr: 0x15,
  window: 0x16,
  exit: 0x17,
  kill: 0x18,
  resize: 0x19,
  filePut: 0x20,
  fileGet: 0x21,
  fileInfo: 0x22,
  fileData: 0x23,
  fileEof: 0x24,
  stat: 0x25,
  list: 0x26,
  listEntries: 0x27,
  remove: 0x28,
  done: 0x29,
  shutdown: 0x30,
} as const;

/** Codes of the agent's ERROR frames. */
export const AgentErrorCode = {
  badFrame: 1,
  frameTooLarge: 2,
  unknownType: 3,
  badStream: 4,
  version: 5,
  notReady: 6,
  flow: 7,
  win32: 8,
  unsupported: 9,
  limit: 10,
  cancelled: 11,
} as const;

export const ExecFlag = { interactive: 0x1, pty: 0x2, rawCommandLine: 0x4, envReplace: 0x8 } as const;
export const ReadyFlag = { consoleMode: 0x1, pty: 0x2 } as const;
export const Channel = { in: 0, out: 1, err: 2 } as const;
export const PutFlag = { mkdirs: 0x1 } as const;
export const RemoveFlag = { recursive: 0x1 } as const;
export const ShutdownFlag = { restart: 0x1, force: 0x2 } as const;

/** Windows file attribute bits used by file requests. */
export const FileAttribute = {
  readOnly: 0x1,
  hidden: 0x2,
  system: 0x4,
  directory: 0x10,
  archive: 0x20,
  /** A symbolic link, junction or mount point when listed (FindFirstFile reports the link itself). */
  reparsePoint: 0x400,
} as const;
