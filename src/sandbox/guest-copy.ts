import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../internal/errors.js';
import { checkHostName, SandboxPathLinkError } from '../storage/beneath/index.js';
import { type AgentClient, type AgentFileInfo, AgentProtocolError, FileAttribute } from './agent/index.js';

/**
 * File and folder copies between the host and a VM through its guest agent.
 * The guest is hostile: every name it lists is checked before it becomes a
 * host file name, a link inside is never entered (as with containers: a link
 * anywhere in the tree stops the copy with `PATH_IS_LINK`), and a tree deeper
 * than the host will walk is refused. Host paths are the caller's own and are
 * followed as given (a cycle of host links is refused).
 */

/** What the copies ask of the agent (a fake one in unit tests plays a hostile guest). */
export type GuestFileAgent = Pick<AgentClient, 'putFile' | 'getFile' | 'stat' | 'list'>;

/** Deeper than any real Windows tree under MAX_PATH-free paths needs; bounds a guest inventing folders. */
const MAX_GUEST_DEPTH = 256;

/** The guest path of `name` in the folder `folder` (`C:\` ends in its separator already). */
function guestChild(folder: string, name: string): string {
  return folder.endsWith('\\') ? `${folder}${name}` : `${folder}\\${name}`;
}

function isGuestLink(info: AgentFileInfo): boolean {
  return (info.attributes & FileAttribute.reparsePoint) !== 0;
}

/** Copies a host file or folder tree to exactly `guestPath`, making its folders. */
export async function copyIntoGuest(agent: GuestFileAgent, hostPath: string, guestPath: string): Promise<void> {
  const source = await stat(hostPath);
  if (!source.isDirectory()) {
    await agent.putFile(guestPath, createReadStream(hostPath), { mkdirs: true, modified: source.mtime });
    return;
  }
  await copyFolderIn(agent, hostPath, guestPath, new Set([`${source.dev}:${source.ino}`]));
}

async function copyFolderIn(
  agent: GuestFileAgent,
  hostFolder: string,
  guestFolder: string,
  ancestors: ReadonlySet<string>,
): Promise<void> {
  // A put with the directory bit makes the folder (and keeps one that exists).
  await agent.putFile(guestFolder, new Uint8Array(0), { attributes: FileAttribute.directory, mkdirs: true });
  for (const name of await readdir(hostFolder)) {
    const hostPath = join(hostFolder, name);
    const guestPath = guestChild(guestFolder, name);
    const source = await stat(hostPath);
    if (source.isDirectory()) {
      const key = `${source.dev}:${source.ino}`;
      if (ancestors.has(key)) {
        throw new InvalidArgumentError('hostPath', 'a folder tree without a symbolic-link cycle', hostPath);
      }
      await copyFolderIn(agent, hostPath, guestPath, new Set([...ancestors, key]));
    } else {
      await agent.putFile(guestPath, createReadStream(hostPath), { modified: source.mtime });
    }
  }
}

/** Copies a guest file or folder tree at `guestPath` to exactly `hostPath`: bytes only. */
export async function copyOutOfGuest(agent: GuestFileAgent, guestPath: string, hostPath: string): Promise<void> {
  const info = await agent.stat(guestPath);
  if (isGuestLink(info)) throw new SandboxPathLinkError(guestPath);
  await mkdir(dirname(hostPath), { recursive: true });
  if (info.isDirectory) await copyFolderOut(agent, guestPath, hostPath, 0);
  else await copyFileOut(agent, guestPath, hostPath);
}

async function copyFileOut(agent: GuestFileAgent, guestPath: string, hostPath: string): Promise<void> {
  const { info, data } = agent.getFile(guestPath);
  data.on('error', () => {}); // a failed request rejects `info` and `pipeline` below, not the process
  await info;
  await pipeline(data, createWriteStream(hostPath));
}

async function copyFolderOut(agent: GuestFileAgent, guestFolder: string, hostFolder: string, depth: number) {
  if (depth >= MAX_GUEST_DEPTH) {
    throw new AgentProtocolError(
      `the guest listed a folder tree deeper than ${MAX_GUEST_DEPTH} levels at ${guestFolder}`,
    );
  }
  await mkdir(hostFolder, { recursive: true });
  for (const entry of await agent.list(guestFolder)) {
    const guestPath = guestChild(guestFolder, entry.name);
    if (isGuestLink(entry)) throw new SandboxPathLinkError(guestPath);
    // A name the guest made becomes a host file name: no separators, dots, devices.
    checkHostName(entry.name, guestPath);
    const hostPath = join(hostFolder, entry.name);
    if (entry.isDirectory) await copyFolderOut(agent, guestPath, hostPath, depth + 1);
    else await copyFileOut(agent, guestPath, hostPath);
  }
}
