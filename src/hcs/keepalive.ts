/**
 * Keeps the Node event loop alive while HCS work is outstanding. A koffi
 * callback fired from an HCS thread does not keep the loop alive by itself
 * (TEST-HOST.md), so without this a script awaiting only an HCS completion
 * would exit before it arrives. When nothing is outstanding the timer is
 * cleared and the process may exit.
 */
let holders = 0;
let timer: NodeJS.Timeout | undefined;

export function holdEventLoop(): () => void {
  holders++;
  timer ??= setInterval(() => {}, 1 << 30);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders--;
    if (holders === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** For tests and diagnostics: how many operations and registrations hold the loop. */
export function eventLoopHolders(): number {
  return holders;
}
