/** The guest agent's host side (issue 15): protocol codec, client, relay launcher; the VM driver uses it through drivers/vm-agent.ts. */
export { AgentClient } from './client.js';
export { encodeFrame, type Frame, FrameDecoder, PayloadReader, PayloadWriter } from './codec.js';
export type { AgentInfo, ConnectOptions } from './connection.js';
export { AgentConnectionClosedError, AgentProtocolError, AgentRequestError } from './errors.js';
export { type AgentExecOptions, AgentProcess } from './exec.js';
export type { AgentDirEntry, AgentFileInfo, PutOptions } from './files.js';
export * from './protocol.js';
export { type RelayTarget, spawnRelay } from './relay.js';
