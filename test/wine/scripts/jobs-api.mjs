// Job objects through the product (dist/jobs) inside node.exe under Wine.
// Usage: jobs-api.mjs <scenario>; reports what Windows (here: Wine) did.

import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { main, trace } from './lib.mjs';

const { Job, runInJob, Win32CallError } = await import('../../../dist/jobs/index.js');
const scenario = process.argv[2];
const tag = `hcs-jobs-${process.pid}`;

const error = (fn) => {
  try {
    fn();
    return null;
  } catch (e) {
    return {
      name: e.name,
      code: e.code,
      errorCode: e.errorCode,
      functionName: e.functionName,
      message: e.message,
    };
  }
};

/** A long-running host process started by node (not by us), to assign by pid. */
function startPing(seconds) {
  const child = spawn('ping', ['-n', String(seconds), '127.0.0.1'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited };
}

const within = (promise, ms) =>
  Promise.race([promise.then((v) => ({ exited: true, code: v })), sleep(ms, { exited: false })]);

const scenarios = {
  async named() {
    const name = `${tag}-named`;
    const job = Job.create({ name });
    const opened = Job.open(name);
    const duplicate = error(() => Job.create({ name }));
    const missing = error(() => Job.open(`${tag}-missing`));
    const badName = error(() => Job.create({ name: 'a\\b' }));
    opened.close();
    job.close();
    job.close();
    const afterClose = error(() => job.processIds());
    // Once every handle is closed, the name is gone.
    const reopen = error(() => Job.open(name));
    return { openedName: opened.name, duplicate, missing, badName, afterClose, reopen };
  },

  async limits() {
    const job = Job.create();
    const set = error(() =>
      job.setLimits({
        processMemory: '64MiB',
        jobMemory: '128MiB',
        activeProcesses: 3,
        priorityClass: 'below-normal',
        killOnJobClose: true,
      }),
    );
    const queried = job.queryLimits();
    const cpuSet = error(() => job.setLimits({ cpuRatePercent: 20 }));
    const weightSet = error(() => job.setLimits({ cpuWeight: 3 }));
    let cpuQueried;
    try {
      cpuQueried = job.queryCpuRate();
    } catch (e) {
      cpuQueried = { error: { name: e.name, errorCode: e.errorCode } };
    }
    const ioSet = error(() => job.setLimits({ ioMaxIops: 100 }));
    const invalid = error(() => job.setLimits({ cpuRatePercent: 150 }));
    job.close();
    return { set, queried, cpuSet, weightSet, cpuQueried, ioSet, invalid };
  },

  async assign() {
    const job = Job.create();
    const ping = startPing(30);
    await sleep(300);
    const before = job.contains(ping.child.pid);
    job.assign(ping.child.pid);
    const after = job.contains(ping.child.pid);
    const ids = job.processIds();
    const accounting = job.accounting();
    trace('terminate');
    job.terminate(42);
    const ended = await within(ping.exited, 10_000);
    const afterTerminate = job.accounting();
    job.close();
    return { pid: ping.child.pid, before, after, ids, accounting, ended, afterTerminate };
  },

  async 'kill-on-close'() {
    const kill = Job.create();
    kill.setLimits({ killOnJobClose: true });
    const a = startPing(30);
    await sleep(300);
    kill.assign(a.child.pid);
    kill.close();
    const killed = await within(a.exited, 10_000);

    const keep = Job.create();
    const b = startPing(30);
    await sleep(300);
    keep.assign(b.child.pid);
    keep.close();
    const kept = await within(b.exited, 2_000);
    b.child.kill();
    return { killed, kept };
  },

  async run() {
    const exit = await runInJob('cmd /c exit 7', {}, { stdio: { stdout: 'ignore' } });
    const out = 'C:\\hcs-jobs-out.txt';
    const echo = await runInJob(
      ['cmd', '/c', 'echo hello from the job'],
      { jobMemory: '256MiB' },
      {
        stdio: { stdout: { file: out } },
        env: { HCS_JOB_TEST: 'x' },
      },
    );
    const text = readFileSync(out, 'utf8');
    rmSync(out, { force: true });
    let timeout;
    const started = Date.now();
    try {
      await runInJob('ping -n 30 127.0.0.1', {}, { timeoutMs: 1000, stdio: { stdout: 'ignore' } });
    } catch (e) {
      timeout = { name: e.name, timedOut: e.timedOut, exitCode: e.exitCode, ms: Date.now() - started };
    }
    const badCommand = await runInJob('no-such-program-xyz.exe').catch((e) => ({
      name: e.name,
      functionName: e.functionName,
      errorCode: e.errorCode,
    }));
    return { exit, echo: { exitCode: echo.exitCode, text }, timeout, badCommand };
  },

  // What Wine enforces: each of these would be stopped on Windows.
  async enforcement() {
    const node = process.execPath;
    // 200 MiB committed in one process under a 64 MiB process limit.
    const memory = await runInJob(
      [node, '-e', 'const a=[];for(let i=0;i<25;i++)a.push(Buffer.alloc(8<<20,1));'],
      { processMemory: '64MiB' },
      { stdio: { stdout: 'ignore', stderr: 'ignore' } },
    );
    const jobMemory = await runInJob(
      [node, '-e', 'const a=[];for(let i=0;i<25;i++)a.push(Buffer.alloc(8<<20,1));'],
      { jobMemory: '64MiB' },
      { stdio: { stdout: 'ignore', stderr: 'ignore' } },
    );
    // A second process under a limit of one.
    const processes = await runInJob(
      'cmd /c "cmd /c exit 3"',
      { activeProcesses: 1 },
      { stdio: { stdout: 'ignore' } },
    );
    // The priority class a process in the job sees (os.getPriority: 19 idle, 10 below normal, 0 normal),
    // and, as a control, that getPriority does report a class it set itself.
    const report = 'C:\\hcs-jobs-priority.json';
    const priorityRun = await runInJob(
      [
        node,
        '-e',
        `const os=require("os");const seen=os.getPriority();os.setPriority(10);` +
          `require("fs").writeFileSync(${JSON.stringify(report)},JSON.stringify({seen,afterSet:os.getPriority()}))`,
      ],
      { priorityClass: 'idle' },
      { stdio: { stdout: 'ignore', stderr: 'ignore' } },
    );
    const priority = { exitCode: priorityRun.exitCode, ...JSON.parse(readFileSync(report, 'utf8')) };
    rmSync(report, { force: true });
    return { memory, jobMemory, processes, priority };
  },
};

await main(async () => {
  const fn = scenarios[scenario];
  if (!fn) throw new Error(`unknown scenario ${scenario}`);
  void Win32CallError;
  return fn();
});
