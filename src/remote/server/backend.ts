import type { SandboxHost } from '../../sandbox/sandbox-host.js';

/**
 * What the server drives: sandboxes (the `SandboxHost` seam that the local
 * `Sandbox` and remote ones share) and images. Production passes
 * `localBackend()` (local-backend.ts); the unit tests pass one whose
 * commands are Linux processes (test/support/linux-sandbox-host.ts).
 */
export interface ImageCatalog {
  /** Images as the SDK lists them (`listImages`), JSON-safe. */
  list(): Promise<unknown[]>;
  /** Pulls `reference`, reporting progress; resolves with the pulled image. */
  pull(
    reference: string,
    options: { onProgress: (progress: unknown) => void; signal: AbortSignal },
  ): Promise<unknown>;
}

export interface ServeBackend {
  sandboxes: SandboxHost;
  images: ImageCatalog;
}
