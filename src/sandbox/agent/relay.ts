import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

/** Where the relay connects: a VM's agent over AF_HYPERV, or (simulated host) a named pipe. */
export type RelayTarget = { vmId: string; serviceId: string } | { pipe: string };

/**
 * Starts hvsock-relay.exe and presents its stdin/stdout as one Duplex, the
 * byte stream an AgentClient speaks over (Node cannot open AF_HYPERV sockets
 * itself; VM-SANDBOXES.md §2). Destroying the Duplex ends the relay. `waitMs`
 * makes the relay retry until the agent listens.
 */
export function spawnRelay(relayExe: string, target: RelayTarget, waitMs = 0): Duplex {
  const args = ['--wait-ms', String(waitMs)];
  if ('pipe' in target) args.push('--pipe', target.pipe);
  else args.push(target.vmId, target.serviceId);
  const child = spawn(relayExe, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8');
  });
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      if (child.stdin.write(chunk)) callback();
      else child.stdin.once('drain', () => callback());
    },
    final(callback) {
      child.stdin.end();
      callback();
    },
    read() {
      child.stdout.resume();
    },
    destroy(error, callback) {
      if (child.exitCode === null) child.kill();
      callback(error);
    },
  });
  child.stdout.on('data', (d: Buffer) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  child.stdout.on('end', () => duplex.push(null));
  child.stdin.on('error', () => {}); // the relay exited: its exit is reported below
  child.on('error', (error) => duplex.destroy(error));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null)
      duplex.destroy(new Error(`hvsock-relay exited with ${code}: ${stderr.trim() || 'no message'}`));
  });
  return duplex;
}
