// The program the exec benchmarks run: this same node.exe writing `bytes` of 'x' to
// stdout in 64 KiB writes, honouring backpressure (single quotes only: it sits in a
// Windows command line), and a sink that counts what arrives.
import { execFile, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const WRITER =
  'const n=Number(process.argv[1]);const b=Buffer.alloc(65536,120);let left=n;' +
  'function w(){while(left>0){const k=Math.min(left,b.length);left-=k;' +
  "if(!process.stdout.write(k===b.length?b:b.subarray(0,k))){process.stdout.once('drain',w);return}}}w()";

/** The writer's arguments after node.exe. */
export const writerArgs = (bytes) => ['-e', WRITER, String(bytes)];
/** The writer as a command: node.exe and its arguments. */
export const writerCommand = (bytes) => [process.execPath, ...writerArgs(bytes)];

/** Bytes arriving on a Readable, counted and dropped. */
export function counter() {
  let bytes = 0;
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  return { sink, bytes: () => bytes };
}

/**
 * The baseline: `child_process.spawn` of the writer from this node.exe, its stdout
 * counted and dropped; resolves with the bytes received.
 */
export async function childProcessRun(bytes) {
  const child = spawn(process.execPath, writerArgs(bytes), { stdio: ['ignore', 'pipe', 'pipe'] });
  const count = counter();
  child.stderr.resume();
  const exited = new Promise((resolve, reject) => {
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(Object.assign(new Error(`exit code ${code}`), { exitCode: code >>> 0 })),
    );
    child.on('error', reject);
  });
  await pipeline(child.stdout, count.sink);
  await exited;
  return count.bytes();
}

/**
 * What `commands.run` does, through child_process: `execFile` of the writer,
 * its whole output collected (and decoded with `utf8`); resolves with its length.
 */
export function childProcessCollect(bytes, encoding) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      writerArgs(bytes),
      { encoding, maxBuffer: Number.POSITIVE_INFINITY },
      (error, stdout) => {
        if (error)
          reject(
            Object.assign(error, {
              exitCode: typeof error.code === 'number' ? error.code >>> 0 : error.code,
            }),
          );
        else resolve(stdout.length);
      },
    );
  });
}
