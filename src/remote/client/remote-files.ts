import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { SandboxFileEntry, SandboxFilesApi } from '../../sandbox/sandbox-host.js';
import { RemoteNotFoundError, RemoteProtocolError, RemoteUnsupportedError } from './errors.js';
import type { RemoteTransport } from './transport.js';

interface WireEntry {
  name: string;
  type: SandboxFileEntry['type'];
  size: number;
  modified: string | null;
}

/**
 * A remote sandbox's files through the files routes. Paths are guest paths,
 * checked by the server as the local API checks them; file bodies are
 * streamed both ways, never held whole (a 1 GiB copy costs a few chunks of
 * memory). Folders are not copied yet, as with a VM's guest agent.
 */
export class RemoteFiles implements SandboxFilesApi {
  readonly #transport: RemoteTransport;
  readonly #route: string;

  constructor(transport: RemoteTransport, name: string) {
    this.#transport = transport;
    this.#route = `sandboxes/${encodeURIComponent(name)}/files`;
  }

  async write(sandboxPath: string, data: string | Uint8Array): Promise<void> {
    await this.#transport.call('PUT', this.#route, {
      query: { path: sandboxPath },
      body: data,
      timeoutMs: false,
    });
  }

  read(sandboxPath: string): Promise<string>;
  read(sandboxPath: string, options: { encoding: 'bytes' }): Promise<Uint8Array>;
  async read(sandboxPath: string, options?: { encoding: 'bytes' }): Promise<string | Uint8Array> {
    const response = await this.#transport.request('GET', this.#route, {
      query: { path: sandboxPath },
      timeoutMs: false,
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    return options?.encoding === 'bytes' ? bytes : bytes.toString('utf8');
  }

  /** One host file to exactly `sandboxPath`, streamed. */
  async copyIn(hostPath: string, sandboxPath: string): Promise<void> {
    if ((await stat(hostPath)).isDirectory()) throw noFolders();
    const body = Readable.toWeb(createReadStream(hostPath)) as ReadableStream<Uint8Array>;
    await this.#transport.call('PUT', this.#route, { query: { path: sandboxPath }, body, timeoutMs: false });
  }

  /** One sandbox file to exactly `hostPath` (its folder made), streamed. */
  async copyOut(sandboxPath: string, hostPath: string): Promise<void> {
    let response: Response;
    try {
      response = await this.#transport.request('GET', this.#route, {
        query: { path: sandboxPath },
        timeoutMs: false,
      });
    } catch (error) {
      // The read route serves files only: say "folder" when it is one, rather than the server's refusal.
      if (!(error instanceof RemoteNotFoundError) && (await this.#isFolder(sandboxPath))) throw noFolders();
      throw error;
    }
    if (!response.body) throw new RemoteProtocolError(response.status, 'a file read without a body');
    await mkdir(dirname(hostPath), { recursive: true });
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      createWriteStream(hostPath),
    );
  }

  async list(sandboxPath: string): Promise<SandboxFileEntry[]> {
    const { entries } = await this.#transport.json<{ entries: WireEntry[] }>('GET', `${this.#route}/list`, {
      query: { path: sandboxPath },
    });
    if (!Array.isArray(entries)) throw new RemoteProtocolError(200, 'a folder listing without `entries`');
    return entries.map((e) => ({
      name: e.name,
      type: e.type,
      size: e.size,
      modified: e.modified === null ? undefined : new Date(e.modified),
    }));
  }

  async remove(sandboxPath: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.#transport.call('DELETE', this.#route, {
      query: { path: sandboxPath, recursive: String(options.recursive === true) },
    });
  }

  async #isFolder(sandboxPath: string): Promise<boolean> {
    return this.list(sandboxPath).then(
      () => true,
      () => false,
    );
  }
}

function noFolders(): RemoteUnsupportedError {
  return new RemoteUnsupportedError(
    'Copying a folder',
    'the wire API v1 copies single files (not yet folders); copy its files one by one',
  );
}
