import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The guest agent's Windows binaries as this package ships them: `dist/agent`
 * (built with MinGW-w64 by scripts/build-agent.mjs when the package is built).
 * Every built module sits two folders below package.json (dist/<layer>/x.js,
 * and the bundled CLI's chunks in dist/cli), so the folder is found from here.
 */
export interface PackagedAgent {
  /** The agent service, staged into VM images (`vm image build`). */
  agentExe: string;
  /** The host relay a VM sandbox's commands and files go through. */
  relayExe: string;
}

let dirOverride: string | undefined;

/** @internal Tests point the lookup at a folder of their own (`undefined` restores dist/agent). */
export function setPackagedAgentDir(dir: string | undefined): void {
  dirOverride = dir;
}

export function packagedAgentDir(): string {
  return dirOverride ?? fileURLToPath(new URL('../../dist/agent/', import.meta.url));
}

/** Both binaries, or undefined when this copy has none (built from git without MinGW-w64). */
export function packagedAgent(dir = packagedAgentDir()): PackagedAgent | undefined {
  const agent = { agentExe: `${dir}agent.exe`, relayExe: `${dir}hvsock-relay.exe` };
  return existsSync(agent.agentExe) && existsSync(agent.relayExe) ? agent : undefined;
}
