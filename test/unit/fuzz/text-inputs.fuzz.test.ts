/**
 * Property tests of the readers of text a user (or a downloaded file) hands
 * us: image references, sandbox create options (from JavaScript callers and
 * parsed files, so any value at all), and `.wsb` files, as text and as bytes,
 * through to the sandbox options they map to. Inputs are valid ones changed
 * piece by piece (elements renamed, dropped, repeated, text and attributes
 * replaced, cut short) and, now and then, random strings and bytes.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { normaliseOptions, toStoredOptions } from '../../../src/sandbox/options.js';
import { parseWsb } from '../../../src/sandbox/wsb/reader.js';
import { wsbToSandboxOptions } from '../../../src/sandbox/wsb/to-options.js';
import { parseReference } from '../../../src/storage/images/reference.js';
import { byteMutation, fuzzParams, fuzzRuns, mutate, returnsTyped, Tally } from './fuzz-support.js';

const RUNS = fuzzRuns(3000);
const BOUND_MS = 250;

const alnum = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
/** Pieces a reference is made of, and the characters that break them. */
const referencePiece = fc.oneof(
  alnum,
  fc.constantFrom(
    '/',
    ':',
    '@',
    '.',
    '_',
    '__',
    '-',
    '--',
    '[',
    ']',
    '::1',
    'localhost',
    'sha256:',
    'A',
    ' ',
    '\0',
  ),
  hex64,
  fc.string({ maxLength: 12 }),
);
const reference = fc.oneof(
  { weight: 4, arbitrary: fc.array(referencePiece, { maxLength: 12 }).map((p) => p.join('')) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.option(fc.constantFrom('mcr.microsoft.com', 'localhost:5000', '[::1]:5000', 'index.docker.io')),
        fc.array(alnum, { minLength: 1, maxLength: 4 }),
        fc.option(fc.stringMatching(/^[\w][\w.-]{0,140}$/)),
        fc.option(hex64),
      )
      .map(
        ([domain, path, tag, digest]) =>
          `${domain ? `${domain}/` : ''}${path.join('/')}${tag ? `:${tag}` : ''}${digest ? `@sha256:${digest}` : ''}`,
      ),
  },
  // Long runs of the characters the patterns repeat: a backtracking pattern shows here.
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('a', 'a-', 'a.', 'a__', '0', 'a-'.repeat(3)),
        fc.integer({ min: 1, max: 5000 }),
        fc.string({ maxLength: 3 }),
      )
      .map(([unit, n, tail]) => unit.repeat(n) + tail),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 300, unit: 'binary' }) },
);

describe('parseReference (fuzz)', { timeout: 60_000 }, () => {
  it(`answers a reference or an InvalidArgumentError (${RUNS} runs)`, () => {
    const tally = new Tally();
    fc.assert(
      fc.property(reference, (input) => {
        const out = returnsTyped('parseReference', () => parseReference(input), BOUND_MS);
        tally.see(out);
        if (!(out instanceof Error)) {
          // What it answers parses again to the same thing (normalised form is stable).
          const again = parseReference(out.normalized);
          if (again.normalized !== out.normalized) throw new Error(`unstable: ${out.normalized}`);
        }
      }),
      fuzzParams(RUNS),
    );
    tally.expectBoth(0.02, 'parseReference');
  });
});

const HOST = { cpus: 8, memoryMB: 16384 };
const OPTION_KEYS = [
  'image',
  'isolation',
  'name',
  'persistent',
  'memoryMB',
  'cpus',
  'cpuLimit',
  'cpuWeight',
  'ioMaxIops',
  'ioMaxBandwidth',
  'mappedFolders',
  'env',
  'workingDir',
  'hostName',
  'scratchSizeGB',
  'owner',
  'home',
  'start',
  'network',
  'networkName',
  'ports',
  'allow',
  'dns',
  'memoryMb',
] as const;
/** Values of the right type and the wrong: any JSON-ish value, odd numbers, odd strings. */
const anyValue = fc.oneof(
  fc.anything({ maxDepth: 3, withNullPrototype: true, withBigInt: true, withMap: true, withSet: true }),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -0,
    0.5,
    1e300,
    256,
    4,
    100,
    'C:\\data',
    '\\\\s\\h',
    '/tmp',
  ),
  fc.constantFrom('process', 'hyperv', 'vm', 'nat', 'none', 'isolated', 'internal', '8080:80', '10.0.0.0/8'),
  fc.array(
    fc.oneof(
      fc.anything({ maxDepth: 2 }),
      fc.record(
        {
          hostPath: fc.constantFrom('C:\\x', '/tmp', 1),
          sandboxPath: fc.constantFrom('C:\\y', 'C:\\..', 'D:\\'),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        { hostPort: fc.anything(), sandboxPort: fc.anything(), protocol: fc.anything() },
        { requiredKeys: [] },
      ),
      fc.string(),
    ),
    { maxLength: 4 },
  ),
  fc.record({ servers: fc.anything(), search: fc.anything() }, { requiredKeys: [] }),
);
/** Options a caller would write, each field optional. */
const plausible = fc.record(
  {
    isolation: fc.constantFrom('process', 'hyperv'),
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    persistent: fc.boolean(),
    memoryMB: fc.integer({ min: 256, max: HOST.memoryMB }),
    cpus: fc.integer({ min: 1, max: HOST.cpus }),
    mappedFolders: fc
      .array(fc.boolean(), { maxLength: 3 })
      .map((ro) => ro.map((readOnly, i) => ({ hostPath: `C:\\h${i}`, sandboxPath: `C:\\s${i}`, readOnly }))),
    env: fc.dictionary(fc.stringMatching(/^[A-Z_]{1,6}$/), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    workingDir: fc.constantFrom('C:\\', 'C:\\work'),
    scratchSizeGB: fc.integer({ min: 1, max: 1024 }),
    ports: fc.constantFrom(['8080:80'], [{ hostPort: 5353, sandboxPort: 53, protocol: 'udp' }], []),
    network: fc.constantFrom('nat', 'internal'),
  },
  { requiredKeys: [] },
);
/** Plausible options with a few fields (known, misspelt or unknown) set to any value at all. */
const options = fc
  .tuple(
    plausible,
    fc.dictionary(fc.oneof(fc.constantFrom(...OPTION_KEYS), fc.string({ maxLength: 6 })), anyValue, {
      maxKeys: 2,
    }),
    fc.boolean(),
  )
  .map(([base, odd, spoil]) => ({ image: 'x', ...base, ...(spoil ? odd : {}) }));

describe('normaliseOptions (fuzz)', { timeout: 60_000 }, () => {
  it(`answers normalised options or an InvalidArgumentError for any value (${RUNS} runs)`, () => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        fc.oneof({ weight: 9, arbitrary: options }, { weight: 1, arbitrary: anyValue }),
        (input) => {
          tally.see(
            returnsTyped(
              'normaliseOptions',
              () => toStoredOptions(normaliseOptions(input as never, HOST)),
              BOUND_MS,
            ),
          );
        },
      ),
      fuzzParams(RUNS),
    );
    tally.expectBoth(0.02, 'normaliseOptions');
  });
});

const SETTINGS = [
  'vGPU',
  'Networking',
  'AudioInput',
  'VideoInput',
  'ProtectedClient',
  'PrinterRedirection',
  'ClipboardRedirection',
  'MemoryInMB',
];
const TEXTS = [
  'Enable',
  'Disable',
  'Default',
  'true',
  'FALSE',
  'EnableVendorExtensions',
  '4096',
  '0',
  '99999999999',
  'C:\\Tools',
  'C:\\',
  '\\\\server\\share\\x',
  'relative',
  '..\\..',
  'C:\\a\\..\\b',
  'cmd /c a &amp; b',
  '&amp;',
  '&#0;',
  '&#x110000;',
  '&bogus;',
  '<![CDATA[x]]>',
  ' ',
  '',
  '\u0000',
  '\uD800',
];
const text = fc.oneof(fc.constantFrom(...TEXTS), fc.string({ maxLength: 20 }));
/** What each element accepts, so that a good share of files get past the first check. */
const VALID: Record<string, readonly string[]> = {
  MemoryInMB: ['4096', '8192'],
  HostFolder: ['C:\\Tools', 'D:\\data'],
  SandboxFolder: ['C:\\work', 'C:\\x\\y'],
  ReadOnly: ['true', 'false'],
  Command: ['cmd.exe /c dir'],
};
const leaf = (name: string) =>
  fc
    .oneof({ weight: 3, arbitrary: fc.constantFrom(...(VALID[name] ?? ['Enable', 'Disable'])) }, text)
    .map((t) => `<${name}>${t}</${name}>`);
const folderChild = fc.constantFrom('HostFolder', 'SandboxFolder', 'ReadOnly', 'HostFolder', 'Other');
const folder = fc
  .oneof(
    { weight: 2, arbitrary: fc.constant(['HostFolder', 'SandboxFolder', 'ReadOnly']) },
    fc.array(folderChild, { maxLength: 4 }),
  )
  .chain((names) => fc.tuple(...names.map(leaf)))
  .map((children) => `<MappedFolder>${children.join('')}</MappedFolder>`);
const element = fc.oneof(
  fc.constantFrom(...SETTINGS).chain(leaf),
  fc.array(folder, { maxLength: 2 }).map((f) => `<MappedFolders>${f.join('')}</MappedFolders>`),
  fc.array(leaf('Command'), { maxLength: 2 }).map((c) => `<LogonCommand>${c.join('')}</LogonCommand>`),
  fc.constantFrom('<!-- c -->', '<?pi x?>', '<Unknown/>', 'text', '<vgpu a="1">x</vgpu>', '<!DOCTYPE x>'),
);
const wsbText = fc
  .tuple(
    fc.constantFrom('', '\uFEFF', '<?xml version="1.0" encoding="utf-8"?>\n'),
    fc.constantFrom('Configuration', 'configuration', 'Config'),
    fc.uniqueArray(element, { maxLength: 6, selector: (e) => e.slice(0, 12) }),
  )
  .map(([prolog, root, children]) => `${prolog}<${root}>\n${children.join('\n')}\n</${root}>`);
/** The text as bytes, UTF-8 or UTF-16 with a BOM, then byte mutations (cut short, flipped). */
const wsbBytes = fc
  .tuple(wsbText, fc.constantFrom('utf8', 'utf16le', 'bom8'), fc.array(byteMutation, { maxLength: 3 }))
  .map(([t, encoding, ms]) => {
    const body =
      encoding === 'utf16le'
        ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')])
        : encoding === 'bom8'
          ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t)])
          : Buffer.from(t);
    return mutate(body, ms);
  });
/** Text cut at a random point, or with a random slice deleted. */
const cutText = fc
  .tuple(wsbText, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([t, a, b]) => {
    const i = Math.floor(t.length * Math.min(a, b));
    const j = Math.floor(t.length * Math.max(a, b));
    return a < 0.5 ? t.slice(0, j) : t.slice(0, i) + t.slice(j);
  });

function parseAndMap(input: string | Uint8Array): unknown {
  const config = parseWsb(input, { fileName: 'fuzz.wsb' });
  const { options } = wsbToSandboxOptions(config, {});
  return normaliseOptions({ image: 'x', ...options } as never, HOST);
}

describe('parseWsb (fuzz)', { timeout: 60_000 }, () => {
  it(`answers a config (and options) or a typed error for changed .wsb text (${RUNS} runs)`, () => {
    const tally = new Tally();
    fc.assert(
      fc.property(fc.oneof(wsbText, cutText, fc.string({ maxLength: 200 })), (input) => {
        tally.see(returnsTyped('parseWsb', () => parseAndMap(input), BOUND_MS));
      }),
      fuzzParams(RUNS),
    );
    tally.expectBoth(0.02, 'parseWsb');
  });

  it(`answers a config or a typed error for changed .wsb bytes (${RUNS} runs)`, () => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 4, arbitrary: wsbBytes },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
        ),
        (input) => {
          tally.see(returnsTyped('parseWsb', () => parseAndMap(input), BOUND_MS));
        },
      ),
      fuzzParams(RUNS),
    );
    tally.expectBoth(0.02, 'parseWsb');
  });
});
