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
 * `error instanceof` the SDK class `pick` names; false while the SDK is not
 * loaded (no SDK error exists then), so error printing never loads it.
 */
export function isSdkError<T>(
  error: unknown,
  pick: (lib: Sdk) => abstract new (...args: never[]) => T,
): error is T {
  return loaded !== undefined && error instanceof pick(loaded);
}
