import { type CommandModule, printTable, UsageError } from '../command.js';
import { printJson } from '../json.js';
import { sdk } from '../sdk.js';

export type NetworkPlan =
  | { kind: 'network-ls'; json: boolean }
  | {
      kind: 'network-create';
      name: string;
      type: 'nat' | 'internal';
      subnet: string | undefined;
      json: boolean;
    }
  | { kind: 'network-rm'; names: string[] }
  | { kind: 'network-inspect'; name: string; json: boolean };

function networkType(value: string): 'nat' | 'internal' {
  const v = value.toLowerCase();
  if (v !== 'nat' && v !== 'internal') throw new UsageError(`--type must be nat or internal, got "${value}"`);
  return v;
}

function subnet(value: string): string {
  // Outside the try: SdkNotLoaded must reach readPlan, which loads the SDK and parses again.
  const { network } = sdk();
  try {
    return network.parseCidr(value, '--subnet').text;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export const networkCommand: CommandModule<NetworkPlan> = {
  verbs: ['network'],
  kinds: ['network-ls', 'network-create', 'network-rm', 'network-inspect'],
  register(program, accept) {
    const network = program
      .command('network')
      .description('HCN networks: hcs-sandbox-owned NAT and internal networks, and the ones of other tools');
    network
      .command('ls')
      .alias('list')
      .description('list every HCN network on the host (OWNED says which are hcs-sandbox-owned)')
      .option('--json', 'machine-readable output', false)
      .action((opts: { json: boolean }) => accept({ kind: 'network-ls', json: opts.json }));
    network
      .command('create')
      .description('create an hcs-sandbox-owned network named hcs-sandbox-NAME')
      .argument('<name>', 'network name (letters, digits, ".", "_", "-")')
      .option(
        '--type <type>',
        'nat (sandboxes reach the internet through the host) or internal (only each other)',
        networkType,
        'nat',
      )
      .option(
        '--subnet <cidr>',
        'IPv4 subnet, e.g. 172.30.0.0/16 (default: the first free of 172.20-31.0.0/16, 10.200-231.0.0/16)',
        subnet,
      )
      .option('--json', 'machine-readable output', false)
      .action((name: string, opts: { type: 'nat' | 'internal'; subnet?: string; json: boolean }) =>
        accept({ kind: 'network-create', name, type: opts.type, subnet: opts.subnet, json: opts.json }),
      );
    network
      .command('rm')
      .alias('remove')
      .description("remove hcs-sandbox-owned networks (never another tool's; not while endpoints use them)")
      .argument('<names...>', 'network names')
      .action((names: string[]) => accept({ kind: 'network-rm', names }));
    network
      .command('inspect')
      .description('show a network, its HCN document and its endpoints')
      .argument('<name>', 'network name (ours without the hcs-sandbox- prefix, or any Name or ID)')
      .option('--json', 'machine-readable output', false)
      .action((name: string, opts: { json: boolean }) =>
        accept({ kind: 'network-inspect', name, json: opts.json }),
      );
  },
  async run(plan, io) {
    switch (plan.kind) {
      case 'network-ls': {
        const list = await sdk().network.listNetworks();
        if (plan.json) {
          printJson(io, list);
          return 0;
        }
        printTable(io, [
          ['NAME', 'TYPE', 'SUBNET', 'GATEWAY', 'ENDPOINTS', 'OWNED', 'ID'],
          ...list.map((n) => [
            n.name,
            n.type,
            n.subnet ?? '',
            n.gateway ?? '',
            String(n.endpoints ?? 0),
            n.owned ? 'yes' : 'no',
            n.id,
          ]),
        ]);
        return 0;
      }
      case 'network-create': {
        const { network, created } = await sdk().network.createNetwork({
          name: plan.name,
          type: plan.type,
          ...(plan.subnet ? { subnet: plan.subnet } : {}),
        });
        if (plan.json) printJson(io, { ...network, created });
        else
          io.out(
            `${created ? 'created' : 'exists'} ${network.name} ${network.type} ${network.subnet ?? ''} ${network.id}\n`,
          );
        return 0;
      }
      case 'network-rm': {
        let failed = 0;
        for (const name of plan.names) {
          try {
            const removed = await sdk().network.removeNetwork(name);
            io.out(`removed ${removed.name}\n`);
          } catch (error) {
            if (plan.names.length === 1) throw error;
            io.err(`hcs-sandbox: ${(error as Error).message}\n`);
            failed++;
          }
        }
        return failed ? 1 : 0;
      }
      case 'network-inspect': {
        const n = await sdk().network.inspectNetwork(plan.name);
        if (plan.json) {
          printJson(io, n);
          return 0;
        }
        io.out(
          `Name:      ${n.name}\nID:        ${n.id}\nType:      ${n.type}\nSubnet:    ${n.subnet ?? ''}\n` +
            `Gateway:   ${n.gateway ?? ''}\nOwned:     ${n.owned ? 'yes (hcs-sandbox)' : 'no'}\nEndpoints: ${n.endpoints ?? 0}\n`,
        );
        if (n.endpointList.length) {
          io.out('\n');
          printTable(io, [
            ['ENDPOINT', 'SANDBOX', 'IP', 'MAC', 'PORTS'],
            ...n.endpointList.map((e) => [
              e.name,
              e.sandboxId ?? '',
              e.ipAddress ? `${e.ipAddress}/${e.prefixLength ?? ''}` : '',
              e.macAddress ?? '',
              e.ports.map(sdk().network.formatPortMapping).join(','),
            ]),
          ]);
        }
        return 0;
      }
      default:
        throw new (sdk().InvalidArgumentError)('plan', 'a network plan', plan);
    }
  },
};
