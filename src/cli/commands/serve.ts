import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type CommandModule, type Io, parsePositiveInt, UsageError } from '../command.js';
import { printJson } from '../json.js';
import { packageVersion } from '../package-version.js';
import { sdk } from '../sdk.js';
import { parseByteFlag } from '../units.js';

export type ServePlan =
  | {
      kind: 'serve';
      listen: string;
      tokenFile: string | undefined;
      tlsCert: string | undefined;
      tlsKey: string | undefined;
      leaseSeconds: number;
      maxFileBytes: number;
      json: boolean;
    }
  | { kind: 'serve-new-token'; name: string; tokenFile: string | undefined };

interface ServeFlags {
  listen: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  leaseSeconds: number;
  maxFileBytes: number;
  newToken?: string;
  json: boolean;
}

/** The server's module, loaded only when `serve` runs (with ws): other verbs never pay for it. */
const server = () => import('../../remote/server/index.js');

export const serveCommand: CommandModule<ServePlan> = {
  verbs: ['serve'],
  kinds: ['serve', 'serve-new-token'],
  register(program, accept) {
    program
      .command('serve')
      .description(
        'serve the Sandbox API over HTTP for other machines and processes (bearer tokens; docs/remote.md)',
      )
      .option(
        '--listen <host:port>',
        'where to listen; only loopback unless TLS and --token-file are given',
        '127.0.0.1:7400',
      )
      .option(
        '--token-file <file>',
        'tokens (names, SHA-256 hashes, quotas); default: one made in the store root',
      )
      .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
      .option('--tls-key <file>', 'PEM private key of --tls-cert')
      .option(
        '--lease-seconds <n>',
        'remove an ephemeral sandbox nobody renewed for this long',
        parsePositiveInt,
        60,
      )
      .option('--max-file-bytes <size>', 'largest file a client may upload', parseByteFlag, 2 ** 30)
      .option('--new-token <name>', 'print a new token (once) and add its hash to the token file, then exit')
      .option('--json', 'print {url, tokenFile, tokenPath} as JSON once listening', false)
      .addHelpText(
        'after',
        '\nEvery route but GET /v1/health needs "Authorization: Bearer <token>". Without --token-file a token is\n' +
          'made once and kept in <store root>\\serve-token.txt (owner-only); its path is printed, not the token.\n' +
          'One JSON line per request goes to stderr. Ctrl-C stops serving and keeps the sandboxes.\n',
      )
      .action((_opts: ServeFlags, command: Command) => {
        // The program's own --token-file (a remote server's token, for -H) shares the name and is
        // parsed first wherever it stands: after `serve` it means this server's token file.
        const opts = command.optsWithGlobals<ServeFlags>();
        if (opts.newToken !== undefined) {
          accept({ kind: 'serve-new-token', name: opts.newToken, tokenFile: opts.tokenFile });
          return;
        }
        if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined))
          throw new UsageError('--tls-cert and --tls-key go together');
        accept({
          kind: 'serve',
          listen: opts.listen,
          tokenFile: opts.tokenFile,
          tlsCert: opts.tlsCert,
          tlsKey: opts.tlsKey,
          leaseSeconds: opts.leaseSeconds,
          maxFileBytes: opts.maxFileBytes,
          json: opts.json,
        });
      });
  },
  async run(plan, io) {
    const remote = await server();
    const root = sdk().defaultStateRoot();
    if (plan.kind === 'serve-new-token') {
      const file = plan.tokenFile ?? (await remote.localToken(root)).tokenFile;
      const token = await remote.addNewToken(file, plan.name);
      io.out(`${token}\n`);
      io.err(
        `added token "${plan.name}" to ${file} (its hash only: this is the one time the token is shown)\n`,
      );
      return 0;
    }
    const address = remote.parseListen(plan.listen);
    remote.checkListenSecurity(plan.listen, address, {
      tls: plan.tlsCert !== undefined,
      tokenFile: plan.tokenFile !== undefined,
    });
    const local = plan.tokenFile === undefined ? await remote.localToken(root) : undefined;
    const tokens = local ? local.tokens : await remote.loadTokenFile(plan.tokenFile as string);
    const tls =
      plan.tlsCert !== undefined && plan.tlsKey !== undefined
        ? { cert: await readFile(plan.tlsCert), key: await readFile(plan.tlsKey) }
        : undefined;
    const api = await remote.startApiServer({
      backend: remote.localBackend(),
      tokens,
      root,
      version: packageVersion(),
      host: address.host,
      port: address.port,
      leaseSeconds: plan.leaseSeconds,
      maxFileBytes: plan.maxFileBytes,
      ...(tls && { tls }),
    });
    // The token itself only to a person at a terminal, never into a pipe or a log file.
    const shown =
      local && !plan.json && process.stdout.isTTY
        ? (await readFile(local.tokenPath, 'utf8')).trim()
        : undefined;
    printListening(io, plan.json, api.url, local, plan.tokenFile, shown);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        io.err('hcs-sandbox serve: stopping (streams get 10 s to finish; sandboxes are kept)\n');
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await api.close();
    return 0;
  },
};

function printListening(
  io: Io,
  json: boolean,
  url: string,
  local: { tokenFile: string; tokenPath: string } | undefined,
  tokenFile: string | undefined,
  shownToken: string | undefined,
): void {
  if (json) {
    printJson(io, { url, tokenFile: local?.tokenFile ?? tokenFile, tokenPath: local?.tokenPath ?? null });
    return;
  }
  io.out(`hcs-sandbox serve: listening on ${url}\n`);
  if (local) {
    io.out(`token: in ${local.tokenPath} (owner-only)\n`);
    if (shownToken) io.out(`token: ${shownToken}\n`);
  } else {
    io.out(`tokens: ${tokenFile}\n`);
  }
}
