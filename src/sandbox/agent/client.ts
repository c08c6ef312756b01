import type { Duplex, Readable } from 'node:stream';
import { PayloadWriter } from './codec.js';
import { AgentConnection, type AgentInfo, type ConnectOptions } from './connection.js';
import { type AgentExecOptions, AgentProcess } from './exec.js';
import * as files from './files.js';
import { FrameType, ShutdownFlag } from './protocol.js';

/**
 * The host's client of the guest agent (docs/agent-protocol.md): commands,
 * files and shutdown over one connection, any number of them at once.
 */
export class AgentClient {
  readonly #connection: AgentConnection;

  private constructor(connection: AgentConnection) {
    this.#connection = connection;
  }

  /** Says HELLO over `io` and resolves once the agent is READY. */
  static async connect(io: Duplex, options?: ConnectOptions): Promise<AgentClient> {
    return new AgentClient(await AgentConnection.connect(io, options));
  }

  get info(): AgentInfo {
    return this.#connection.info;
  }

  /** ERROR frames the agent sent about frames it could not tie to a stream. */
  get connectionErrors() {
    return this.#connection.connectionErrors;
  }

  get closedBecause(): Error | undefined {
    return this.#connection.closedBecause;
  }

  ping(timeoutMs?: number): Promise<void> {
    return this.#connection.ping(timeoutMs);
  }

  exec(options: AgentExecOptions): AgentProcess {
    return new AgentProcess(this.#connection, options);
  }

  putFile(path: string, source: Uint8Array | AsyncIterable<Uint8Array>, options?: files.PutOptions) {
    return files.putFile(this.#connection, path, source, options);
  }

  getFile(path: string): { info: Promise<files.AgentFileInfo>; data: Readable } {
    return files.getFile(this.#connection, path);
  }

  readFile(path: string) {
    return files.readFile(this.#connection, path);
  }

  stat(path: string) {
    return files.stat(this.#connection, path);
  }

  list(path: string) {
    return files.list(this.#connection, path);
  }

  remove(path: string, options?: { recursive?: boolean }) {
    return files.remove(this.#connection, path, options);
  }

  /** Powers the guest off (or restarts it); in `--console` mode it stops the agent instead. */
  async shutdown(options: { restart?: boolean; force?: boolean } = {}): Promise<void> {
    const flags = (options.restart ? ShutdownFlag.restart : 0) | (options.force ? ShutdownFlag.force : 0);
    await files.request(this.#connection, FrameType.shutdown, new PayloadWriter().u32(flags).build(), () => ({
      result: undefined,
    }));
  }

  close(): void {
    this.#connection.close();
  }
}
