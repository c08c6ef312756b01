/**
 * The SDK as the CLI loads it: on demand. Importing the package's entry points
 * loads every layer (~180 modules, ajv, tar-stream, saxes), which would be most
 * of a `--help` or `--version`; so the verbs' syntax (commands/*.ts `register`)
 * imports only types from the SDK, and a verb loads the SDK when it runs.
 *
 * A few flag parsers need SDK helpers while argv is parsed (`--memory 512MiB`
 * reads units through `parseBytes`); parsing is synchronous, so they call
 * {@link sdk}, which throws {@link SdkNotLoaded} if the SDK is not there
 * yet. plan.ts's `readPlan` then loads it and parses again (parsing is pure).
 */

export type Sdk = typeof import('../index.js') & {
  hcs: typeof import('../hcs/index.js');
  jobs: typeof import('../jobs/index.js');
  network: typeof import('../network/index.js');
  storage: typeof import('../storage/index.js');
};

let loaded: Sdk | undefined;

/** Loads the SDK's entry points (once) and returns them. */
export async function loadSdk(): Promise<Sdk> {
  // One import() of one module that imports all five: the bundled CLI (scripts/bundle-cli.mjs)
  // then reads one chunk, not five entry facades and the chunk behind them.
  const { root, hcs, jobs, network, storage } = await import('./sdk-entries.js');
  loaded ??= { ...root, hcs, jobs, network, storage };
  return loaded;
}

/** What `ls` loads instead of the SDK: the listing and the error classes it can throw. */
export type SandboxListing = typeof import('./sdk-list-entries.js');

let listing: SandboxListing | undefined;

/**
 * The sandbox listing alone (src/sandbox/list.ts), without the SDK: `ls`
 * runs with this (issue 16, cold start; the SDK chunk is most of what a verb
 * that runs pays for). The bundle gives it a chunk that the SDK's imports too.
 */
export async function loadSandboxListing(): Promise<SandboxListing> {
  listing ??= await import('./sdk-list-entries.js');
  return listing;
}

/** Thrown by {@link sdk} while parsing if the SDK is not loaded yet: load it and parse again. */
export class SdkNotLoaded extends Error {
  override name = 'SdkNotLoaded';
}

/**
 * The SDK for synchronous code: flag parsers, and a verb's run (execute.ts
 * loads the SDK first). Throws {@link SdkNotLoaded} before {@link loadSdk}.
 */
export function sdk(): Sdk {
  if (!loaded) throw new SdkNotLoaded('the SDK is needed to parse these arguments');
  return loaded;
}

/** The SDK if something already loaded it: an SDK error cannot exist before that. */
export function sdkIfLoaded(): Sdk | undefined {
  return loaded;
}

/**
 * `error instanceof` the SDK class `pick` names; false while neither the SDK
 * nor the listing is loaded (no SDK error exists then), so error printing
 * never loads it. With the listing alone, only the classes it holds can match
 * (an error of another class cannot exist yet).
 */
export function isSdkError<T>(
  error: unknown,
  pick: (lib: Sdk) => abstract new (...args: never[]) => T,
): error is T {
  const lib = loaded ?? (listing?.errorClasses as unknown as Sdk | undefined);
  if (lib === undefined) return false;
  const errorClass: unknown = pick(lib);
  return typeof errorClass === 'function' && error instanceof errorClass;
}
