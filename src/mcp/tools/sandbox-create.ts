import { z } from 'zod';
import { defineTool } from '../tool.js';
import { describeSandbox } from './sandbox-info.js';

export const sandboxCreate = defineTool({
  name: 'sandbox_create',
  title: 'Create a Windows sandbox',
  description:
    'Creates and starts an isolated Windows sandbox from an image, and returns its name, id and status. ' +
    'Use the returned name with the other sandbox_ tools. The sandbox is removed when this MCP session ends ' +
    'unless you pass persistent: true. Isolation "process" (a Windows container sharing the host kernel) ' +
    'starts fastest; "hyperv" runs it in a utility VM; "vm" is a full Windows VM (needs a VM image). ' +
    'Network is "none" (no network) unless you ask for "nat" (outbound access through the host).',
  input: {
    image: z
      .string()
      .min(1)
      .describe(
        'Image reference, e.g. "mcr.microsoft.com/windows/nanoserver:ltsc2022" (a VM image name for vm)',
      ),
    name: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Name for the sandbox (letters, digits, - and _); a random one when omitted'),
    isolation: z.enum(['process', 'hyperv', 'vm']).optional().describe('Default: process'),
    memoryMB: z.number().int().positive().optional().describe('Memory limit in MiB'),
    cpus: z.number().int().positive().optional().describe('Number of processors'),
    network: z.enum(['none', 'nat', 'isolated', 'internal']).optional().describe('Default: none'),
    env: z
      .record(z.string(), z.string())
      .optional()
      .describe('Environment variables every command in the sandbox gets'),
    workingDir: z.string().optional().describe('Default working folder of commands, e.g. C:\\work'),
    persistent: z
      .boolean()
      .optional()
      .describe('Keep the sandbox after this session ends (default false: removed with the session)'),
  },
  annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, { session }) {
    // Only JSON-safe options a model may choose: no host folders, no state root (docs/mcp.md, Security).
    const sandbox = await session.create({
      image: args.image,
      ...(args.name !== undefined && { name: args.name }),
      ...(args.isolation !== undefined && { isolation: args.isolation }),
      ...(args.memoryMB !== undefined && { memoryMB: args.memoryMB }),
      ...(args.cpus !== undefined && { cpus: args.cpus }),
      network: args.network ?? 'none',
      ...(args.env !== undefined && { env: args.env }),
      ...(args.workingDir !== undefined && { workingDir: args.workingDir }),
      persistent: args.persistent ?? false,
    });
    return { result: describeSandbox(await sandbox.info(), session) };
  },
});
