import { InvalidArgumentError } from '../../internal/errors.js';
import type { SandboxInfo } from '../../sandbox/info.js';
import type { SandboxOptions } from '../../sandbox/options.js';
import type { SandboxHost } from '../../sandbox/sandbox-host.js';
import { errorFromServer, RemoteProtocolError, statusOfCode } from './errors.js';
import { RemoteSandbox } from './remote-sandbox.js';
import { type ConnectOptions, RemoteTransport } from './transport.js';

/** What a remote create takes: the JSON-safe options, and a lifetime the server enforces. */
export type RemoteSandboxOptions = SandboxOptions & {
  /** Remove the sandbox (persistent or not) this many seconds after it was created (capped by the token's quota). */
  lifetimeSeconds?: number;
};

/** The options a server accepts (wire API v1 `CreateRequest`); host paths stay on the host that has them. */
const REMOTE_OPTIONS = new Set([
  'image',
  'name',
  'isolation',
  'memoryMB',
  'cpus',
  'network',
  'env',
  'workingDir',
  'hostName',
  'cpuLimit',
  'persistent',
  'lifetimeSeconds',
]);

/** A pull's progress line is small JSON: a longer one is a server gone wrong, not something to hold. */
const PULL_LINE_LIMIT = 1024 * 1024;

/** An image as `GET /v1/images` lists it (the SDK's `ImageRecord`, as JSON). */
export interface RemoteImage {
  reference: string;
  id: string;
  source: string;
  [field: string]: unknown;
}

/** One line of a pull's progress (`{"type":"progress",...}` without its type). */
export interface RemotePullProgress {
  item?: string;
  phase?: string;
  done?: number;
  total?: number;
  [field: string]: unknown;
}

/** `GET /v1/health`. */
export interface RemoteHealth {
  status: string;
  version: string;
  api: number;
}

/**
 * A remote `hcs-sandbox serve`, as a `SandboxHost`: `create`, `open` and
 * `list` give sandboxes with the local `Sandbox`'s shape, so code written
 * against `Sandbox` runs unchanged against it.
 */
export class RemoteHost implements SandboxHost {
  readonly #transport: RemoteTransport;
  readonly #open = new Set<RemoteSandbox>();
  readonly images = {
    list: async (): Promise<RemoteImage[]> =>
      (await this.#transport.json<{ images: RemoteImage[] }>('GET', 'images')).images,
    pull: (
      reference: string,
      options: { onProgress?: (p: RemotePullProgress) => void; signal?: AbortSignal } = {},
    ) => this.#pull(reference, options),
  };

  /** @internal Use `connectRemote()` or `Sandbox.connect()`. */
  constructor(transport: RemoteTransport) {
    this.#transport = transport;
  }

  /** The server's base URL. */
  get url(): string {
    return this.#transport.url;
  }

  /**
   * Creates a sandbox on the server (and starts it: with `start: false` it is
   * stopped again at once, as the wire API v1 always starts what it creates).
   */
  async create(options: RemoteSandboxOptions, call: { signal?: AbortSignal } = {}): Promise<RemoteSandbox> {
    const request: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options ?? {})) {
      if (value === undefined || key === 'start') continue;
      if (!REMOTE_OPTIONS.has(key))
        throw new InvalidArgumentError(
          key,
          `one of the options a remote host takes (${[...REMOTE_OPTIONS].join(', ')})`,
          value,
          'host paths and host settings stay on the host that has them',
        );
      request[key] = value;
    }
    const info = await this.#transport.json<SandboxInfo>('POST', 'sandboxes', {
      json: request,
      timeoutMs: false,
      ...(call.signal && { signal: call.signal }),
    });
    const sandbox = this.#adopt(info);
    if (options.start === false) await sandbox.stop();
    return sandbox;
  }

  /** A sandbox this token created, by name. */
  async open(name: string): Promise<RemoteSandbox> {
    if (typeof name !== 'string' || !name) throw new InvalidArgumentError('name', 'a sandbox name', name);
    return this.#adopt(
      await this.#transport.json<SandboxInfo>('GET', `sandboxes/${encodeURIComponent(name)}`),
    );
  }

  /** The sandboxes this token created. */
  async list(): Promise<SandboxInfo[]> {
    const { sandboxes } = await this.#transport.json<{ sandboxes: SandboxInfo[] }>('GET', 'sandboxes');
    if (!Array.isArray(sandboxes)) throw new RemoteProtocolError(200, 'a sandbox list without `sandboxes`');
    return sandboxes;
  }

  async health(): Promise<RemoteHealth> {
    return this.#transport.json<RemoteHealth>('GET', 'health');
  }

  /** Lets go of every sandbox opened through this host (their leases then lapse); the sandboxes stay. */
  async close(): Promise<void> {
    await Promise.all([...this.#open].map((s) => s.close()));
  }

  #adopt(info: SandboxInfo): RemoteSandbox {
    if (typeof info?.name !== 'string') throw new RemoteProtocolError(200, 'a sandbox without a name');
    const sandbox = new RemoteSandbox(this.#transport, info, (s) => this.#open.delete(s));
    this.#open.add(sandbox);
    return sandbox;
  }

  async #pull(
    reference: string,
    options: { onProgress?: (p: RemotePullProgress) => void; signal?: AbortSignal },
  ): Promise<RemoteImage> {
    const response = await this.#transport.request('POST', 'images/pull', {
      json: { reference },
      timeoutMs: false,
      ...(options.signal && { signal: options.signal }),
    });
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of response.body ?? []) {
      pending += decoder.decode(chunk as Uint8Array, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      if (pending.length > PULL_LINE_LIMIT)
        throw new RemoteProtocolError(
          response.status,
          `a pull progress line over ${PULL_LINE_LIMIT} characters`,
        );
      for (const line of lines) {
        const done = this.#pullLine(line, options.onProgress);
        if (done) return done;
      }
    }
    const done = this.#pullLine(pending, options.onProgress);
    if (done) return done;
    throw new RemoteProtocolError(response.status, 'a pull that ended without a "done" or "error" line');
  }

  /** One NDJSON line of a pull: progress is reported, `done` returns the image, `error` throws. */
  #pullLine(line: string, onProgress?: (p: RemotePullProgress) => void): RemoteImage | undefined {
    if (!line.trim()) return undefined;
    let message: { type?: unknown; image?: RemoteImage; error?: { code?: unknown; message?: unknown } };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      throw new RemoteProtocolError(200, 'a pull progress line that is not JSON');
    }
    if (message.type === 'done' && message.image) return message.image;
    if (message.type === 'error')
      throw errorFromServer(statusOfCode(message.error?.code), message.error, this.#transport.url);
    if (message.type === 'progress') {
      const { type: _type, ...progress } = message as Record<string, unknown>;
      onProgress?.(progress as RemotePullProgress);
    }
    return undefined;
  }
}

/**
 * Connects to a remote `hcs-sandbox serve` (one `GET /v1/health`, so a wrong
 * URL fails here, with `RemoteUnreachableError`), and returns it as a
 * `SandboxHost`. Loads neither koffi nor any Windows DLL: it runs on Linux
 * and macOS.
 */
export async function connectRemote(options: ConnectOptions): Promise<RemoteHost> {
  const transport = new RemoteTransport(options);
  const host = new RemoteHost(transport);
  const health = await host.health();
  if (health?.api !== 1)
    throw new RemoteProtocolError(
      200,
      `the server speaks wire API ${String(health?.api)}, this client API 1`,
    );
  return host;
}
