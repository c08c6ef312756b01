/**
 * The isolation names, written once. A sandbox is a process-isolated
 * container, a Hyper-V isolated container (utility VM plus hosted container),
 * or a whole Windows VM; a Windows container image runs only under the first
 * two, which is why images, the compatibility check and the container builder
 * take the narrower list.
 */
export const SANDBOX_ISOLATIONS = ['process', 'hyperv', 'vm'] as const;

/** How a sandbox is isolated: `process`, `hyperv` or `vm`. */
export type SandboxIsolation = (typeof SANDBOX_ISOLATIONS)[number];

/** The isolations a Windows container (and so a container image) can run under. */
export const CONTAINER_ISOLATIONS = ['process', 'hyperv'] as const satisfies readonly SandboxIsolation[];

/** `process` or `hyperv`. */
export type ContainerIsolation = (typeof CONTAINER_ISOLATIONS)[number];

export function isSandboxIsolation(value: unknown): value is SandboxIsolation {
  return (SANDBOX_ISOLATIONS as readonly unknown[]).includes(value);
}
