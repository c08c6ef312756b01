import type { RowVerdicts } from './verdicts.js';
import type { VmBootObservations } from './vm-boot.js';

/** The rows of docs/windows-verification.md `vm.boot` settles. */
export const VM_BOOT_ROWS = [
  'VD1',
  'VD2',
  'VD3',
  'VD4',
  'VD5',
  'VD7',
  'VS5',
  'VV1',
  'VV3',
  'VV4',
  'VV5',
] as const;

/** The guest shut down when asked: Windows ran far enough to answer its shutdown integration service. */
function shutDownGracefully(seen: VmBootObservations): boolean {
  return seen.stop?.exitType === 'GracefulExit';
}

/**
 * What the observations of one `vm.boot` run say about each row. A row the
 * run did not get to keeps "not reached" with the reason the run stopped.
 */
export function vmBootVerdicts(seen: VmBootObservations, v: RowVerdicts): void {
  if (seen.startError !== undefined) {
    v.refute('VD1', `create ${seen.createMs} ms, then start failed: ${seen.startError}`);
    return;
  }
  if (seen.startMs === undefined) return;
  bootRows(seen, v);
  screenRows(seen, v);
  lifecycleRows(seen, v);
}

/** VD1, VD2, VD4: the document was accepted; did Windows run? */
function bootRows(seen: VmBootObservations, v: RowVerdicts): void {
  if (seen.stop === undefined) return;
  const accepted = `the document was accepted (create ${seen.createMs} ms, start ${seen.startMs} ms)`;
  const screen = `screen: ${seen.screen ?? 'not asked'}`;
  if (shutDownGracefully(seen)) {
    const booted = `${accepted}; the guest shut down by itself when asked (${seen.stop.ms} ms), so Windows ran; ${screen}`;
    v.confirm('VD1', booted);
    v.confirm('VD2', `Secure Boot with the Microsoft Windows template: ${booted}`);
    v.confirm('VD4', `the differencing os.vhdx over base.vhdx: ${booted}`);
    return;
  }
  const unseen =
    `${accepted}, but nothing showed that Windows ran: the guest did not shut down when asked ` +
    `(${seen.stop.exitType ?? 'no exit status'} after ${seen.stop.ms} ms). A boot refused by Secure Boot, ` +
    `or Setup still running, look the same: watch it with hcs-sandbox view; ${screen}`;
  for (const row of ['VD1', 'VD2', 'VD4']) v.notReached(row, unseen);
}

/** VV1, VV3, VV4: the screen's pipe, directly, through the relay, and with a second client. */
function screenRows(seen: VmBootObservations, v: RowVerdicts): void {
  if (seen.screen === undefined) return;
  const pipe = `${seen.pipe}: ${seen.screen}`;
  if (seen.screenAnswered) v.confirm('VV1', pipe);
  else if (seen.screen.startsWith('no connection')) v.refute('VV1', pipe);
  else v.notReached('VV1', `${pipe} (the worker's RDP server did not answer in time)`);

  const relay = `relay: ${seen.relay ?? 'not tried'}`;
  if (seen.screenAnswered && seen.relayAnswered)
    v.confirm(
      'VV3',
      `net.connect opened the pipe and read its answer, directly and through the view relay (${relay})`,
    );
  else if (seen.screenAnswered)
    v.refute('VV3', `the pipe answered directly but not through the relay (${relay})`);
  else v.notReached('VV3', `nothing came back to read (${pipe}; ${relay})`);

  const t = seen.takeover;
  if (!t) v.notReached('VV4', `no first connection to the pipe (${seen.screen})`);
  else if (!t.secondConnected)
    v.refute(
      'VV4',
      `a second connection was refused (${t.secondError}); the first was ${t.firstCut ? 'cut' : 'kept'}`,
    );
  else if (t.firstCut)
    v.confirm(
      'VV4',
      `the first connection was closed when the second connected; the second's answer: ${t.secondAnswer}`,
    );
  else v.refute('VV4', `both connections stayed open for 3 s (the second's answer: ${t.secondAnswer})`);
}

/** VV5, VD7, VD5, VS5, VD3: pause, update, stop, remove. */
function lifecycleRows(seen: VmBootObservations, v: RowVerdicts): void {
  if (seen.pipeWhilePaused !== undefined && seen.pipeAfterStop !== undefined) {
    const observed = `while paused the pipe ${seen.pipeWhilePaused ? 'accepted a connection' : 'was gone'}; after stop it ${seen.pipeAfterStop ? 'still accepted one' : 'was gone'}`;
    if (seen.pipeWhilePaused && !seen.pipeAfterStop) v.confirm('VV5', observed);
    else v.refute('VV5', observed);
  }
  const u = seen.update;
  if (u?.accepted) v.confirm('VD7', 'accepted: memory 4096 -> 6144 MB on the running VM');
  else if (u?.unsupported) v.confirm('VD7', `refused, reported as LimitUpdateUnsupportedError: ${u.error}`);
  else if (u) v.refute('VD7', `failed with another error: ${u.error}`);

  const stop = seen.stop;
  if (stop) {
    const how = `${stop.exitType ?? 'no exit status'} after ${stop.ms} ms`;
    if (shutDownGracefully(seen)) {
      v.confirm(
        'VD5',
        `the guest shut down in ${stop.ms} ms (GracefulExit), without a NIC detach (network none)`,
      );
      v.confirm(
        'VS5',
        `HcsShutDownComputeSystem completed with the VM exited (${how}); a shutdown overtaken by a terminate is not probed`,
      );
    } else {
      v.refute('VD5', `the guest did not shut down within the driver's 60 s: ${how}`);
      v.notReached('VS5', `the guest never shut down by itself (${how})`);
    }
  }
  const second = seen.secondStart;
  const aces = seen.vmAces;
  if (second) {
    const acl =
      aces?.running !== undefined && aces.before !== undefined && aces.running > aces.before
        ? `base.vhdx's VM access entries: ${aces.before} before, ${aces.running} with both sandboxes, ${aces.afterFirstRemoved} after the first was removed, ${aces.after} at the end`
        : "the grants are not visible in base.vhdx's DACL on this host";
    if (second.started)
      v.confirm(
        'VD3',
        `the first VM opened its granted chain; after it was removed a second sandbox over the same base started (${acl})`,
      );
    else
      v.refute(
        'VD3',
        `after the first sandbox was removed the second over the same base failed to start: ${second.error} (${acl})`,
      );
  }
}
