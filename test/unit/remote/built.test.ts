import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINUX_IMAGE, startTestServe, type TestServe, TOKEN } from '../../support/remote-serve.js';

/**
 * The remote client as users run it on Linux: the package built from these
 * sources (tsc, then the CLI bundle) into a scratch copy, run by a plain
 * `node` against the real API server (over the Linux test backend). Proves
 * koffi is never loaded, the SDK example runs unchanged but for its connect
 * line, a client that dies takes its command with it, and the CLI's --host.
 */

const repo = join(import.meta.dirname, '..', '..', '..');
let build: string;
let server: TestServe;
const savedPath = process.env.PATH;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function node(args: string[], env: Record<string, string> = {}, cwd = build): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A loader hook that reports every module file loaded (ES modules as loaded, CommonJS at exit). */
function hookFile(): string {
  const hooks = `export async function load(url, context, next) {
    if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n');
    return next(url, context);
  }`;
  const file = join(build, 'count-modules.mjs');
  writeFileSync(
    file,
    [
      "import { createRequire, register } from 'node:module';",
      `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`,
      "process.on('exit', () => {",
      "  for (const f of Object.keys(createRequire(import.meta.url).cache)) process.stderr.write('LOADED ' + f + '\\n');",
      '});',
    ].join('\n'),
  );
  return pathToFileURL(file).href;
}

const loaded = (run: Run) =>
  run.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOADED '))
    .map((l) => l.slice(7));

const isKoffi = (file: string) => /[\\/]node_modules[\\/]koffi[\\/]/.test(file);

const remoteEnv = () => ({ HCS_SANDBOX_HOST: server.url, HCS_SANDBOX_TOKEN: TOKEN });

beforeAll(async () => {
  mkdirSync(join(repo, '.cache'), { recursive: true });
  // Inside the repository, so `ws` and the other dependencies resolve from its node_modules.
  build = mkdtempSync(join(repo, '.cache', 'remote-built-'));
  for (const entry of [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    'scripts/bundle-cli.mjs',
    'examples',
  ])
    cpSync(join(repo, entry), join(build, entry), { recursive: true });
  for (const step of [
    [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    ['scripts/bundle-cli.mjs'],
  ]) {
    const run = await node(step);
    if (run.code !== 0) throw new Error(`${step.join(' ')} failed: ${run.stdout}${run.stderr}`);
  }
  server = await startTestServe();
  // The Linux backend runs commands with `sh -c`: a `cmd` that takes `/c LINE` as sh does,
  // so the example's Windows command line runs as it is.
  const shims = join(build, 'shims');
  mkdirSync(shims);
  writeFileSync(join(shims, 'cmd'), '#!/bin/sh\nshift\nexec sh -c "$*"\n');
  chmodSync(join(shims, 'cmd'), 0o755);
  process.env.PATH = `${shims}:${savedPath}`;
}, 120_000);

afterAll(async () => {
  process.env.PATH = savedPath;
  await server?.close();
  if (build) rmSync(build, { recursive: true, force: true });
});

describe('the built client on Linux', () => {
  it('hcs-sandbox/remote drives a sandbox without ever loading koffi', async () => {
    const script = join(build, 'drive.mjs');
    writeFileSync(
      script,
      `import { connectRemote } from 'hcs-sandbox/remote';
const host = await connectRemote({ url: process.env.HCS_SANDBOX_HOST, token: process.env.HCS_SANDBOX_TOKEN });
const sb = await host.create({ image: '${LINUX_IMAGE}' });
const out = (await sb.commands.run('echo hi')).stdout;
await sb.files.write('C:\\\\a.txt', 'x');
const file = await sb.files.read('C:\\\\a.txt');
await sb.remove();
console.log(JSON.stringify({ out, file }));`,
    );
    const run = await node(['--import', hookFile(), script], remoteEnv());
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ out: 'hi\n', file: 'x' });
    const files = loaded(run);
    expect(files.some((f) => f.includes('/dist/remote/client/'))).toBe(true); // the hook saw it
    // The koffi package is never loaded.
    expect(files.filter(isKoffi)).toEqual([]);
    // Nor any of the Windows layers: the client reaches the commands machinery and nothing under it.
    expect(files.filter((f) => /[\\/]dist[\\/](native|hcs|storage|network|jobs)[\\/]/.test(f))).toEqual([]);
  });

  it('the check above would see koffi if it were loaded', async () => {
    const script = join(build, 'control.mjs');
    writeFileSync(
      script,
      "import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('koffi');\n",
    );
    const run = await node(['--import', hookFile(), script]);
    expect(loaded(run).filter(isKoffi).length).toBeGreaterThan(0);
  });

  it('the SDK example runs unchanged against serve, with only its connect line choosing the host', async () => {
    const run = await node(['--import', hookFile(), join(build, 'examples', 'sandbox.mjs')], {
      ...remoteEnv(),
      SANDBOX_IMAGE: LINUX_IMAGE,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('hello from a sandbox (exit code 0)\nwritten from the host\n');
    // Through the root entry (`Sandbox.connect`): still no koffi.
    expect(loaded(run).filter(isKoffi)).toEqual([]);
    expect(server.backend.names()).toEqual([]);
  });

  it('a client that dies takes its command with it', async () => {
    const script = join(build, 'die.mjs');
    writeFileSync(
      script,
      `import { connectRemote } from 'hcs-sandbox/remote';
const host = await connectRemote({ url: process.env.HCS_SANDBOX_HOST, token: process.env.HCS_SANDBOX_TOKEN });
const sb = await host.create({ image: '${LINUX_IMAGE}', name: 'orphan' });
const handle = await sb.commands.spawn('echo started; sleep 30');
handle.stdout.once('data', () => process.exit(0));`,
    );
    const run = await node([script], remoteEnv());
    expect(run.code, run.stderr).toBe(0);
    const started = server.backend.started.length;
    expect(started).toBeGreaterThan(0);
    for (let i = 0; i < 100 && server.backend.liveProcesses().length > 0; i++) await sleep(50);
    expect(server.backend.liveProcesses()).toEqual([]);
    const log = server.log.filter((l) => l.sandbox === 'orphan' && l.route.endsWith('/commands/stream'));
    expect(log).toHaveLength(1);
    // Its lease would remove it in a minute; the tests below want an empty host now.
    await (await server.backend.open('orphan')).remove();
  });
});

// Each CLI run loads the SDK (a few hundred ms): more time than the default 5 s per test.
describe('the CLI with --host, on Linux', { timeout: 60_000 }, () => {
  const cli = (args: string[], env: Record<string, string> = remoteEnv()) =>
    node([join(build, 'dist', 'cli', 'main.js'), ...args], env);

  it('create, ls, inspect, start, exec, cp, stop, kill, rm', async () => {
    expect(await cli(['create', LINUX_IMAGE, '--name', 'c1'])).toEqual({
      code: 0,
      stdout: 'c1\n',
      stderr: '',
    });
    const ls = await cli(['ls', '-a']);
    expect(ls.stdout).toMatch(
      /^NAME +STATUS +ISOLATION +IMAGE +CREATED\nc1 +stopped +process +local\/base:1 /,
    );
    expect(JSON.parse((await cli(['ls', '--json', '-a'])).stdout)).toMatchObject([
      { name: 'c1', persistent: true },
    ]);
    expect((await cli(['inspect', 'c1'])).stdout).toMatch(/^Name: +c1\n/);
    expect(await cli(['start', 'c1'])).toMatchObject({ code: 0, stdout: 'c1\n' });
    expect(await cli(['exec', 'c1', '--', 'echo hi from exec'])).toEqual({
      code: 0,
      stdout: 'hi from exec\n',
      stderr: '',
    });
    expect(await cli(['exec', 'c1', '--', 'echo out; echo err >&2; exit 7'])).toEqual({
      code: 7,
      stdout: 'out\n',
      stderr: 'err\n',
    });
    const local = join(build, 'in.txt');
    writeFileSync(local, 'copied in');
    expect((await cli(['cp', local, 'c1:C:\\work\\in.txt'])).code).toBe(0);
    expect((await cli(['cp', 'c1:C:\\work\\in.txt', join(build, 'back', 'out.txt')])).code).toBe(0);
    expect(readFileSync(join(build, 'back', 'out.txt'), 'utf8')).toBe('copied in');
    const running = await cli(['rm', 'c1']);
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(/stop it first, or remove it anyway with rm -f/);
    expect(await cli(['stop', 'c1'])).toMatchObject({ code: 0, stdout: 'c1\n' });
    expect(await cli(['kill', 'c1'])).toMatchObject({ code: 0, stdout: 'c1\n' });
    expect(await cli(['rm', 'c1'])).toMatchObject({ code: 0, stdout: 'c1\n' });
    expect(server.backend.names()).toEqual([]);
  });

  it("run streams the command's output and exits with its code; --rm removes the sandbox", async () => {
    const run = await cli(['run', '--rm', '--name', 'r1', LINUX_IMAGE, '--', 'echo ran; exit 3']);
    expect(run).toEqual({ code: 3, stdout: 'ran\n', stderr: '' });
    expect(server.backend.names()).toEqual([]);
    const kept = await cli(['run', '--name', 'r2', LINUX_IMAGE, '--', 'echo kept']);
    expect(kept.code).toBe(0);
    expect(server.backend.names()).toEqual(['r2']);
    expect(JSON.parse((await cli(['inspect', '--json', 'r2'])).stdout)).toMatchObject([
      { status: 'stopped', persistent: true },
    ]);
    await cli(['rm', 'r2']);
  });

  it('run -d with a command is refused: a command ends with its connection', async () => {
    const run = await cli(['run', '-d', LINUX_IMAGE, '--', 'sleep 10']);
    expect(run.code).toBe(125);
    expect(run.stderr).toMatch(/not available on a remote host/);
  });

  it('image ls and image pull', async () => {
    expect((await cli(['image', 'ls'])).stdout).toMatch(/^REFERENCE +BUILD +SIZE +SOURCE\nlocal\/base:1 /);
    const pull = await cli(['image', 'pull', LINUX_IMAGE, '--json']);
    expect(JSON.parse(pull.stdout)).toMatchObject({ reference: LINUX_IMAGE });
  });

  it('the host and token come from flags, or the environment', async () => {
    const tokenFile = join(build, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const env = { HCS_SANDBOX_HOST: '', HCS_SANDBOX_TOKEN: '' };
    expect((await cli(['--host', server.url, '--token-file', tokenFile, 'ls'], env)).code).toBe(0);
    expect(
      (await cli(['ls', `--host=${server.url}`], { ...env, HCS_SANDBOX_TOKEN_FILE: tokenFile })).code,
    ).toBe(0);
    const noToken = await cli(['-H', server.url, 'ls'], env);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/refused the token.*HCS_SANDBOX_TOKEN/);
    const missing = await cli(['-H', server.url, '--token-file', join(build, 'nope'), 'ls'], env);
    expect(missing.stderr).toMatch(/nope: no such file or folder/);
  });

  it('verbs that need this machine are refused with a typed error', async () => {
    for (const verb of [['logs', 'x'], ['network', 'ls'], ['gc']]) {
      const run = await cli([...verb, '--json']);
      expect(run.code, verb.join(' ')).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({
        error: { code: 'REMOTE_UNSUPPORTED', kind: 'unavailable' },
      });
    }
    expect((await cli(['pause', 'x'])).stderr).toMatch(
      /`hcs-sandbox pause` is not available on a remote host: it works on this machine only; leave out --host/,
    );
  });

  it('a host that is not there fails in one line naming it', async () => {
    // A port that was just free: nothing listens there.
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((resolve) => gone.close(resolve));
    const run = await cli(['ls'], { HCS_SANDBOX_HOST: url, HCS_SANDBOX_TOKEN: TOKEN });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `hcs-sandbox: No answer from the hcs-sandbox server at ${url}: connect ECONNREFUSED ${url.slice(7)}. ` +
        'Check the URL (scheme, host, port), that `hcs-sandbox serve` runs there, and that no firewall or proxy is in between.\n',
    );
  });
  // The MCP server over a remote host: `mcp --host URL` (and `-H URL mcp`) runs the same tools
  // against a remote serve's sandboxes, from Linux, with the token from the environment.
  it.each([
    ['mcp --host URL', (url: string) => ['mcp', '--host', url]],
    ['-H URL mcp', (url: string) => ['-H', url, 'mcp']],
  ])(
    '%s: the MCP tools drive the remote host, and the session cleans up there',
    async (_how, argv) => {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [join(build, 'dist', 'cli', 'main.js'), ...argv(server.url)],
        env: { ...(process.env as Record<string, string>), HCS_SANDBOX_TOKEN: TOKEN },
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const client = new Client({ name: 'remote-mcp-test', version: '1.0.0' });
      await client.connect(transport);
      const created = await client.callTool({ name: 'sandbox_create', arguments: { image: LINUX_IMAGE } });
      expect(created.isError, JSON.stringify(created)).toBeFalsy();
      const name = (created.structuredContent as { name: string }).name;
      const run = await client.callTool({
        name: 'sandbox_run',
        arguments: { sandbox: name, command: 'echo hi' },
      });
      expect(run.structuredContent).toMatchObject({ exitCode: 0, stdout: 'hi\n' });
      // The sandbox is the server's: its backend holds it while the session runs.
      expect((await server.backend.list()).map((i) => i.name)).toContain(name);
      await client.close();
      expect(stderr).toContain(`session ended: removed ${name}`);
      expect((await server.backend.list()).map((i) => i.name)).not.toContain(name);
    },
    60_000,
  );
});
