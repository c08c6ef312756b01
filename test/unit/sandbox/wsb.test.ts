import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HcsSandboxError, InvalidArgumentError } from '../../../src/internal/errors.js';
import { WsbError } from '../../../src/sandbox/errors.js';
import type { WsbConfig } from '../../../src/sandbox/wsb/config.js';
import { defaultSandboxFolder } from '../../../src/sandbox/wsb/paths.js';
import { parseWsb, readWsbFile } from '../../../src/sandbox/wsb/reader.js';
import { wsbToSandboxOptions } from '../../../src/sandbox/wsb/to-options.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'wsb');
const fixture = (name: string) => join(FIXTURES, name);

function expectWsbError(fn: () => unknown): WsbError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WsbError);
    expect(err).toBeInstanceOf(HcsSandboxError);
    expect((err as WsbError).code).toBe('WSB_INVALID');
    return err as WsbError;
  }
  throw new Error('expected a WsbError');
}

describe('parseWsb: realistic files', () => {
  it('reads the downloads example (comments, XML declaration, vGpu spelling)', async () => {
    const config = await readWsbFile(fixture('downloads.wsb'));
    expect(config).toEqual<WsbConfig>({
      fileName: fixture('downloads.wsb'),
      vGPU: 'Disable',
      networking: 'Disable',
      mappedFolders: [
        {
          hostFolder: 'C:\\Users\\Public\\Downloads',
          sandboxFolder: 'C:\\Users\\WDAGUtilityAccount\\Downloads',
          sandboxFolderDefaulted: false,
          readOnly: true,
          position: { line: 7, column: 5 },
        },
      ],
      logonCommand: 'explorer.exe C:\\Users\\WDAGUtilityAccount\\Downloads',
      positions: {
        vGPU: { line: 4, column: 3 },
        Networking: { line: 5, column: 3 },
        MappedFolders: { line: 6, column: 3 },
        LogonCommand: { line: 13, column: 3 },
      },
    });
  });

  it('reads every documented element, CRLF line endings, UNC host, entities, default desktop', async () => {
    const config = await readWsbFile(fixture('everything-crlf.wsb'));
    expect(config.vGPU).toBe('Enable');
    expect(config.networking).toBe('Default');
    expect(config.audioInput).toBe('Disable');
    expect(config.videoInput).toBe('Enable');
    expect(config.protectedClient).toBe('Default');
    expect(config.printerRedirection).toBe('Enable');
    expect(config.clipboardRedirection).toBe('Disable');
    expect(config.memoryInMB).toBe(8192);
    expect(config.logonCommand).toBe(
      'powershell.exe -ExecutionPolicy Bypass -File "C:\\Tools\\setup.ps1" -Mode "quick" & exit',
    );
    expect(config.mappedFolders).toEqual([
      {
        hostFolder: 'D:\\Build Tools\\scripts',
        sandboxFolder: 'C:\\Tools',
        sandboxFolderDefaulted: false,
        readOnly: true,
        position: { line: 5, column: 5 },
      },
      {
        hostFolder: '\\\\fileserver\\projects\\drop',
        sandboxFolder: 'C:\\Work\\drop',
        sandboxFolderDefaulted: false,
        readOnly: false,
        position: { line: 10, column: 5 },
      },
      {
        hostFolder: 'C:\\Users\\me\\Samples\\',
        sandboxFolder: 'C:\\Users\\WDAGUtilityAccount\\Desktop\\Samples',
        sandboxFolderDefaulted: true,
        readOnly: false,
        position: { line: 15, column: 5 },
      },
    ]);
    expect(config.positions.MemoryInMB).toEqual({ line: 27, column: 3 });
  });

  it('accepts legacy spellings: VGpu, lower-case names and values, True/False for switches', async () => {
    const config = await readWsbFile(fixture('legacy-spellings.wsb'));
    expect(config).toMatchObject({
      vGPU: 'Disable',
      networking: 'Enable',
      memoryInMB: 5096,
      clipboardRedirection: 'Enable',
      printerRedirection: 'Disable',
      protectedClient: 'Disable',
      videoInput: 'Disable',
      audioInput: 'Disable',
    });
    expect(config.mappedFolders[0]).toMatchObject({ readOnly: true });
  });

  it('reads a two-folder agent rendezvous file', async () => {
    const config = await readWsbFile(fixture('agent-rendezvous.wsb'));
    expect(config.mappedFolders.map((f) => [f.sandboxFolder, f.readOnly])).toEqual([
      ['C:\\Sandbox-Guest', true],
      ['C:\\Sandbox-Rendezvous', false],
    ]);
    expect(config.logonCommand).toBe('C:\\Sandbox-Rendezvous\\bootstrap.cmd');
  });

  it('reads an empty configuration', async () => {
    expect(await readWsbFile(fixture('empty.wsb'))).toEqual({
      fileName: fixture('empty.wsb'),
      mappedFolders: [],
      positions: {},
    });
  });

  it('decodes UTF-16LE and UTF-16BE with a BOM and UTF-8 with a BOM', () => {
    const text = readFileSync(fixture('downloads.wsb'), 'utf8');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const expected = parseWsb(text, { fileName: 'x.wsb' });
    for (const bytes of [le, be, utf8]) {
      expect(parseWsb(bytes, { fileName: 'x.wsb' })).toEqual(expected);
    }
    expect(parseWsb(`\uFEFF${text}`, { fileName: 'x.wsb' })).toEqual(expected);
  });

  it('takes CDATA, comments and processing instructions inside values', () => {
    const config = parseWsb(
      '<Configuration><LogonCommand><Command><![CDATA[cmd /c "a<b" & echo]]><!-- c --></Command></LogonCommand></Configuration>',
    );
    expect(config.logonCommand).toBe('cmd /c "a<b" & echo');
  });

  it('defaults the sandbox folder to the desktop under the host folder name', () => {
    expect(defaultSandboxFolder('C:\\a\\b')).toBe('C:\\Users\\WDAGUtilityAccount\\Desktop\\b');
    expect(defaultSandboxFolder('C:/a/b/')).toBe('C:\\Users\\WDAGUtilityAccount\\Desktop\\b');
    expect(defaultSandboxFolder('\\\\srv\\share')).toBe('C:\\Users\\WDAGUtilityAccount\\Desktop\\share');
    expect(defaultSandboxFolder('D:\\')).toBeUndefined();
  });
});

interface BadCase {
  name: string;
  xml: string;
  line: number;
  column: number;
  /** Substring of the message. */
  says: string;
  allowed?: string;
}

const C = (body: string) => `<Configuration>\n${body}\n</Configuration>`;
const F = (inner: string) =>
  C(`  <MappedFolders>\n    <MappedFolder>\n${inner}\n    </MappedFolder>\n  </MappedFolders>`);

const BAD: BadCase[] = [
  // XML itself
  { name: 'empty input', xml: '', line: 1, column: 1, says: 'malformed XML' },
  { name: 'only a comment', xml: '<!-- nothing -->', line: 1, column: 16, says: 'malformed XML' },
  {
    name: 'mismatched close tag',
    xml: C('  <vGPU>Enable</Networking>'),
    line: 2,
    column: 27,
    says: 'unexpected close tag',
  },
  {
    name: 'unclosed root',
    xml: '<Configuration>\n  <vGPU>Enable</vGPU>\n',
    line: 3,
    column: 1,
    says: 'malformed XML',
  },
  {
    name: 'two roots',
    xml: '<Configuration/>\n<Configuration/>',
    line: 2,
    column: 15,
    says: 'only one root',
  },
  {
    name: 'unknown entity',
    xml: C('  <LogonCommand>\n    <Command>a &nbsp; b</Command>\n  </LogonCommand>'),
    line: 3,
    column: 21,
    says: 'undefined entity',
  },
  {
    name: 'bare ampersand',
    xml: C('  <LogonCommand><Command>a & b</Command></LogonCommand>'),
    line: 2,
    column: 28,
    says: 'a bare "&"',
  },
  {
    name: 'bare ampersand after a comment with one',
    xml: C('  <!-- a & b -->\n  <LogonCommand><Command>x &amp; y & z</Command></LogonCommand>'),
    line: 3,
    column: 36,
    says: 'a bare "&"',
  },
  {
    name: 'DOCTYPE',
    xml: '<!DOCTYPE Configuration [<!ENTITY x "y">]>\n<Configuration/>',
    line: 1,
    column: 42,
    says: 'DOCTYPE is not allowed',
  },
  { name: 'text after root', xml: '<Configuration/>\ntrailing', line: 2, column: 8, says: 'outside of root' },
  {
    name: 'attribute without quotes',
    xml: C('  <vGPU a=b>Enable</vGPU>'),
    line: 2,
    column: 11,
    says: 'malformed XML',
  },
  // structure
  {
    name: 'wrong root',
    xml: '<Config>\n</Config>',
    line: 1,
    column: 1,
    says: 'root element is <Config>',
    allowed: '<Configuration>',
  },
  {
    name: 'unknown top-level element',
    xml: C('  <vGPU>Enable</vGPU>\n  <Gpu>Enable</Gpu>'),
    line: 3,
    column: 3,
    says: 'unknown element <Gpu> in <Configuration>',
    allowed: '<vGPU>',
  },
  {
    name: 'misspelt element',
    xml: C('  <MemoryInMb2>4096</MemoryInMb2>'),
    line: 2,
    column: 3,
    says: '<MemoryInMb2>',
  },
  {
    name: 'duplicate element',
    xml: C('  <Networking>Enable</Networking>\n\n  <Networking>Disable</Networking>'),
    line: 4,
    column: 3,
    says: 'appears twice (first at line 2, column 3)',
  },
  {
    name: 'duplicate in other case',
    xml: C('  <vGPU>Enable</vGPU>\n  <VGpu>Enable</VGpu>'),
    line: 3,
    column: 3,
    says: '<vGPU> appears twice',
  },
  {
    name: 'duplicate MappedFolders',
    xml: C('  <MappedFolders/>\n  <MappedFolders/>'),
    line: 3,
    column: 3,
    says: 'appears twice',
  },
  {
    name: 'attribute on setting',
    xml: C('  <Networking enabled="yes">Enable</Networking>'),
    line: 2,
    column: 3,
    says: 'attribute enabled',
    allowed: 'no attributes',
  },
  {
    name: 'attribute on root',
    xml: '<Configuration version="2">\n</Configuration>',
    line: 1,
    column: 1,
    says: 'attribute version',
  },
  {
    name: 'text in root',
    xml: C('  hello\n  <vGPU>Enable</vGPU>'),
    line: 1,
    column: 1,
    says: 'contains text "hello"',
  },
  {
    name: 'child in a value',
    xml: C('  <vGPU>\n    <Enable/>\n  </vGPU>'),
    line: 3,
    column: 5,
    says: 'takes a value, not a child element <Enable>',
  },
  {
    name: 'nested Configuration',
    xml: C('  <Configuration/>'),
    line: 2,
    column: 3,
    says: 'unknown element <Configuration>',
  },
  // values
  {
    name: 'toggle typo',
    xml: C('  <Networking>Enabled</Networking>'),
    line: 2,
    column: 3,
    says: 'has the value "Enabled"',
    allowed: 'Enable, Disable or Default',
  },
  {
    name: 'toggle empty',
    xml: C('  <AudioInput></AudioInput>'),
    line: 2,
    column: 3,
    says: '<AudioInput> is empty',
  },
  {
    name: 'toggle self-closed',
    xml: C('  <VideoInput/>'),
    line: 2,
    column: 3,
    says: '<VideoInput> is empty',
  },
  {
    name: 'toggle numeric',
    xml: C('  <ClipboardRedirection>1</ClipboardRedirection>'),
    line: 2,
    column: 3,
    says: 'ClipboardRedirection',
  },
  {
    name: 'protected client yes',
    xml: C('  <ProtectedClient>yes</ProtectedClient>'),
    line: 2,
    column: 3,
    says: '"yes"',
  },
  {
    name: 'printer on',
    xml: C('\n\n  <PrinterRedirection>On</PrinterRedirection>'),
    line: 4,
    column: 3,
    says: '"On"',
  },
  {
    name: 'vGPU bad',
    xml: C('  <vGPU>Auto</vGPU>'),
    line: 2,
    column: 3,
    says: '"Auto"',
    allowed: 'EnableVendorExtensions',
  },
  {
    name: 'memory text',
    xml: C('  <MemoryInMB>lots</MemoryInMB>'),
    line: 2,
    column: 3,
    says: '"lots"',
    allowed: 'a whole number of megabytes',
  },
  { name: 'memory zero', xml: C('  <MemoryInMB>0</MemoryInMB>'), line: 2, column: 3, says: '"0"' },
  {
    name: 'memory negative',
    xml: C('  <MemoryInMB>-1024</MemoryInMB>'),
    line: 2,
    column: 3,
    says: '"-1024"',
  },
  {
    name: 'memory fraction',
    xml: C('  <MemoryInMB>2048.5</MemoryInMB>'),
    line: 2,
    column: 3,
    says: '"2048.5"',
  },
  { name: 'memory unit', xml: C('  <MemoryInMB>4GB</MemoryInMB>'), line: 2, column: 3, says: '"4GB"' },
  { name: 'memory hex', xml: C('  <MemoryInMB>0x1000</MemoryInMB>'), line: 2, column: 3, says: '"0x1000"' },
  {
    name: 'memory huge',
    xml: C('  <MemoryInMB>99999999999999999999</MemoryInMB>'),
    line: 2,
    column: 3,
    says: '"99999999999999999999"',
  },
  {
    name: 'memory empty',
    xml: C('  <MemoryInMB> </MemoryInMB>'),
    line: 2,
    column: 3,
    says: '<MemoryInMB> is empty',
  },
  // logon command
  {
    name: 'logon without command',
    xml: C('  <LogonCommand>\n  </LogonCommand>'),
    line: 2,
    column: 3,
    says: 'has no <Command>',
  },
  {
    name: 'logon text directly',
    xml: C('  <LogonCommand>cmd.exe</LogonCommand>'),
    line: 2,
    column: 3,
    says: 'contains text "cmd.exe"',
  },
  {
    name: 'two commands',
    xml: C('  <LogonCommand>\n    <Command>a</Command>\n    <Command>b</Command>\n  </LogonCommand>'),
    line: 4,
    column: 5,
    says: '<Command> appears twice',
  },
  {
    name: 'empty command',
    xml: C('  <LogonCommand>\n    <Command>  </Command>\n  </LogonCommand>'),
    line: 3,
    column: 5,
    says: '<Command> is empty',
  },
  {
    name: 'unknown in logon',
    xml: C('  <LogonCommand>\n    <Cmd>a</Cmd>\n  </LogonCommand>'),
    line: 3,
    column: 5,
    says: 'unknown element <Cmd> in <LogonCommand>',
    allowed: '<Command>',
  },
  // mapped folders
  {
    name: 'folder outside MappedFolders',
    xml: C('  <MappedFolder><HostFolder>C:\\a</HostFolder></MappedFolder>'),
    line: 2,
    column: 3,
    says: 'unknown element <MappedFolder> in <Configuration>',
  },
  {
    name: 'unknown in MappedFolders',
    xml: C('  <MappedFolders>\n    <Folder/>\n  </MappedFolders>'),
    line: 3,
    column: 5,
    says: 'unknown element <Folder> in <MappedFolders>',
  },
  {
    name: 'no HostFolder',
    xml: F('      <SandboxFolder>C:\\x</SandboxFolder>'),
    line: 3,
    column: 5,
    says: 'has no <HostFolder>',
  },
  {
    name: 'relative HostFolder',
    xml: F('      <HostFolder>tools\\bin</HostFolder>'),
    line: 4,
    column: 7,
    says: 'relative paths are not supported',
  },
  {
    name: 'dot-relative HostFolder',
    xml: F('      <HostFolder>.\\tools</HostFolder>'),
    line: 4,
    column: 7,
    says: 'not an absolute host path',
  },
  {
    name: 'drive-relative HostFolder',
    xml: F('      <HostFolder>C:tools</HostFolder>'),
    line: 4,
    column: 7,
    says: 'drive-relative',
  },
  {
    name: 'rooted HostFolder without drive',
    xml: F('      <HostFolder>\\tools</HostFolder>'),
    line: 4,
    column: 7,
    says: 'without a drive letter',
  },
  {
    name: 'env var HostFolder',
    xml: F('      <HostFolder>%USERPROFILE%\\Downloads</HostFolder>'),
    line: 4,
    column: 7,
    says: 'environment variables',
  },
  {
    name: 'empty HostFolder',
    xml: F('      <HostFolder></HostFolder>'),
    line: 4,
    column: 7,
    says: 'it is empty',
  },
  {
    name: 'bad char in HostFolder',
    xml: F('      <HostFolder>C:\\a|b</HostFolder>'),
    line: 4,
    column: 7,
    says: 'character "|"',
  },
  {
    name: 'POSIX HostFolder',
    xml: F('      <HostFolder>/home/me</HostFolder>'),
    line: 4,
    column: 7,
    says: 'not an absolute host path',
  },
  {
    name: 'duplicate HostFolder',
    xml: F('      <HostFolder>C:\\a</HostFolder>\n      <HostFolder>C:\\b</HostFolder>'),
    line: 5,
    column: 7,
    says: '<HostFolder> appears twice (first at line 4, column 7)',
  },
  {
    name: 'relative SandboxFolder',
    xml: F('      <HostFolder>C:\\a</HostFolder>\n      <SandboxFolder>work</SandboxFolder>'),
    line: 5,
    column: 7,
    says: 'not an absolute path in the sandbox',
  },
  {
    name: 'UNC SandboxFolder',
    xml: F('      <HostFolder>C:\\a</HostFolder>\n      <SandboxFolder>\\\\srv\\share</SandboxFolder>'),
    line: 5,
    column: 7,
    says: 'must start with a drive letter',
  },
  {
    name: 'dot-dot SandboxFolder',
    xml: F(
      '      <HostFolder>C:\\a</HostFolder>\n      <SandboxFolder>C:\\work\\..\\Windows</SandboxFolder>',
    ),
    line: 5,
    column: 7,
    says: "'..' segments",
  },
  {
    name: 'empty SandboxFolder',
    xml: F('      <HostFolder>C:\\a</HostFolder>\n      <SandboxFolder/>'),
    line: 5,
    column: 7,
    says: 'it is empty',
  },
  {
    name: 'ReadOnly yes',
    xml: F('      <HostFolder>C:\\a</HostFolder>\n      <ReadOnly>yes</ReadOnly>'),
    line: 5,
    column: 7,
    says: '<ReadOnly> has the value "yes"',
    allowed: 'true or false',
  },
  {
    name: 'ReadOnly Enable',
    xml: F('      <HostFolder>C:\\a</HostFolder>\n      <ReadOnly>Enable</ReadOnly>'),
    line: 5,
    column: 7,
    says: '"Enable"',
  },
  {
    name: 'ReadOnly empty',
    xml: F('      <HostFolder>C:\\a</HostFolder>\n      <ReadOnly/>'),
    line: 5,
    column: 7,
    says: '<ReadOnly> is empty',
  },
  {
    name: 'unknown in MappedFolder',
    xml: F('      <HostFolder>C:\\a</HostFolder>\n      <Writable>true</Writable>'),
    line: 5,
    column: 7,
    says: 'unknown element <Writable> in <MappedFolder>',
    allowed: '<HostFolder>, <SandboxFolder>, <ReadOnly>',
  },
  {
    name: 'drive root without SandboxFolder',
    xml: F('      <HostFolder>D:\\</HostFolder>'),
    line: 3,
    column: 5,
    says: 'drive or share root',
  },
  { name: 'text in MappedFolder', xml: F('      C:\\a'), line: 3, column: 5, says: 'contains text' },
  {
    name: 'two folders on one target (case and slashes differ)',
    xml: C(
      '  <MappedFolders>\n    <MappedFolder><HostFolder>C:\\a</HostFolder><SandboxFolder>C:\\Work</SandboxFolder></MappedFolder>\n' +
        '    <MappedFolder><HostFolder>C:\\b</HostFolder><SandboxFolder>c:/work/</SandboxFolder></MappedFolder>\n  </MappedFolders>',
    ),
    line: 4,
    column: 5,
    says: 'two folders map to c:/work/ (the other at line 3)',
  },
  {
    name: 'two folders defaulting to the same desktop name',
    xml: C(
      '  <MappedFolders>\n    <MappedFolder><HostFolder>C:\\a\\tools</HostFolder></MappedFolder>\n' +
        '    <MappedFolder><HostFolder>D:\\tools</HostFolder></MappedFolder>\n  </MappedFolders>',
    ),
    line: 4,
    column: 5,
    says: 'two folders map to C:\\Users\\WDAGUtilityAccount\\Desktop\\tools',
  },
  {
    name: 'position after astral characters',
    xml: C('  <!-- 😀😀 --><Gpu/>'),
    line: 2,
    column: 14,
    says: 'unknown element <Gpu>',
  },
];

describe('parseWsb: malformed input', () => {
  it.each(BAD)('$name -> line $line, column $column', ({ xml, line, column, says, allowed }) => {
    const err = expectWsbError(() => parseWsb(xml, { fileName: 'bad.wsb' }));
    expect({ line: err.line, column: err.column }).toEqual({ line, column });
    expect(err.fileName).toBe('bad.wsb');
    expect(err.message).toContain(says);
    expect(err.message.startsWith(`bad.wsb:${line}:${column}: `)).toBe(true);
    if (allowed) {
      expect(err.allowed).toContain(allowed);
      expect(err.message).toContain(`Allowed: ${err.allowed}`);
    }
  });

  it('names the element path of the offending element', () => {
    const err = expectWsbError(() =>
      parseWsb(
        C(
          '  <MappedFolders>\n    <MappedFolder><HostFolder>C:\\a</HostFolder></MappedFolder>\n' +
            '    <MappedFolder><HostFolder>nope</HostFolder></MappedFolder>\n  </MappedFolders>',
        ),
      ),
    );
    expect(err.element).toBe('Configuration/MappedFolders/MappedFolder[2]/HostFolder');
    expect(err.fileName).toBe('<input>');
  });

  it('refuses bytes that are not UTF-8, and files over 1 MiB', () => {
    const latin1 = Buffer.from(
      '<Configuration><LogonCommand><Command>caf\xe9</Command></LogonCommand></Configuration>',
      'latin1',
    );
    expect(expectWsbError(() => parseWsb(latin1, { fileName: 'l.wsb' })).message).toContain(
      'not valid UTF-8',
    );
    const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
    expect(expectWsbError(() => parseWsb(big)).message).toContain('bytes long');
  });

  it('reports a missing file as the file system error, not a WsbError', async () => {
    await expect(readWsbFile(fixture('missing.wsb'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('wsbToSandboxOptions', () => {
  it('maps the downloads example with no warnings but the logon user', async () => {
    const config = await readWsbFile(fixture('downloads.wsb'));
    const { options, warnings } = wsbToSandboxOptions(config);
    expect(options).toEqual({
      network: 'none',
      mappedFolders: [
        {
          hostPath: 'C:\\Users\\Public\\Downloads',
          sandboxPath: 'C:\\Users\\WDAGUtilityAccount\\Downloads',
          readOnly: true,
        },
      ],
      logonCommand: 'explorer.exe C:\\Users\\WDAGUtilityAccount\\Downloads',
      gpu: false,
    });
    expect(warnings.map((w) => w.setting)).toEqual(['LogonCommand']);
    expect(warnings[0]).toMatchObject({ line: 13, column: 3, fileName: config.fileName });
  });

  it('warns for every setting container isolation cannot honour, with its position', async () => {
    const config = await readWsbFile(fixture('everything-crlf.wsb'));
    const { options, warnings } = wsbToSandboxOptions(config, { isolation: 'hyperv' });
    expect(options).toMatchObject({
      memoryMB: 8192,
      network: 'nat',
      gpu: true,
      clipboard: false,
      audioInput: false,
      videoInput: true,
      printerRedirection: true,
    });
    expect(options).not.toHaveProperty('protectedClient');
    expect(warnings.map((w) => [w.setting, w.value, w.line])).toEqual([
      ['vGPU', 'Enable', 2],
      ['VideoInput', 'Enable', 23],
      ['PrinterRedirection', 'Enable', 25],
      ['LogonCommand', expect.stringContaining('powershell.exe'), 19],
      ['MappedFolders', 'C:\\Users\\me\\Samples\\', 15],
    ]);
    expect(warnings[0]!.message).toContain('ignored with hyperv isolation');
  });

  it('warns for vendor-extension vGPU, audio, clipboard and protected client when enabled', () => {
    const config = parseWsb(
      C(
        '  <vGPU>EnableVendorExtensions</vGPU>\n  <AudioInput>Enable</AudioInput>\n' +
          '  <ClipboardRedirection>true</ClipboardRedirection>\n  <ProtectedClient>Enable</ProtectedClient>',
      ),
    );
    const { options, warnings } = wsbToSandboxOptions(config);
    expect(options).toEqual({
      network: 'nat',
      mappedFolders: [],
      gpu: true,
      audioInput: true,
      clipboard: true,
      protectedClient: true,
    });
    expect(warnings.map((w) => w.setting)).toEqual([
      'vGPU',
      'AudioInput',
      'ClipboardRedirection',
      'ProtectedClient',
    ]);
    expect(warnings.every((w) => w.message.includes('process isolation'))).toBe(true);
  });

  it('does not warn for Default or Disable; with isolation vm, warns of what a VM does not take yet', () => {
    const config = parseWsb(C('  <vGPU>Default</vGPU>\n  <AudioInput>Disable</AudioInput>'));
    expect(wsbToSandboxOptions(config).warnings).toEqual([]);
    expect(wsbToSandboxOptions(config, { isolation: 'vm' }).warnings).toEqual([]);
    const enabled = parseWsb(C('  <vGPU>Enable</vGPU>\n  <LogonCommand><Command>x</Command></LogonCommand>'));
    const { options, warnings } = wsbToSandboxOptions(enabled, { isolation: 'vm' });
    expect(options).toEqual({ network: 'nat', mappedFolders: [], gpu: true, logonCommand: 'x' });
    // The logon command runs in a VM (through its guest agent, in the user's session): no warning.
    expect(warnings.map((w) => w.setting)).toEqual(['vGPU']);
  });

  it('lets overrides win: memory, network, logon command, and folders by sandbox path', async () => {
    const config = await readWsbFile(fixture('agent-rendezvous.wsb'));
    const { options, warnings } = wsbToSandboxOptions(config, {
      memoryMB: 2048,
      network: 'none',
      logonCommand: 'cmd /c ver',
      mappedFolders: [
        { hostPath: 'D:\\other', sandboxPath: 'c:\\sandbox-guest\\', readOnly: false },
        { hostPath: 'D:\\extra', sandboxPath: 'C:\\Extra', readOnly: true },
      ],
    });
    expect(options).toEqual({
      memoryMB: 2048,
      network: 'none',
      logonCommand: 'cmd /c ver',
      gpu: false,
      mappedFolders: [
        { hostPath: 'D:\\other', sandboxPath: 'c:\\sandbox-guest\\', readOnly: false },
        {
          hostPath: 'C:\\Users\\me\\AppData\\Local\\Temp\\agent\\run1',
          sandboxPath: 'C:\\Sandbox-Rendezvous',
          readOnly: false,
        },
        { hostPath: 'D:\\extra', sandboxPath: 'C:\\Extra', readOnly: true },
      ],
    });
    expect(warnings).toEqual([]);
  });

  it.each([
    [{ memoryMB: 0 }, 'memoryMB'],
    [{ memoryMB: 1.5 }, 'memoryMB'],
    [{ network: 'bridge' }, 'network'],
    [{ isolation: 'container' }, 'isolation'],
    [{ logonCommand: '  ' }, 'logonCommand'],
    [
      { mappedFolders: [{ hostPath: 'rel', sandboxPath: 'C:\\x', readOnly: true }] },
      'mappedFolders[0].hostPath',
    ],
    [
      { mappedFolders: [{ hostPath: 'C:\\x', sandboxPath: 'x', readOnly: true }] },
      'mappedFolders[0].sandboxPath',
    ],
    [
      { mappedFolders: [{ hostPath: 'C:\\x', sandboxPath: 'C:\\x', readOnly: 'yes' }] },
      'mappedFolders[0].readOnly',
    ],
  ])('refuses the override %j with InvalidArgumentError(%s)', (overrides, field) => {
    const config = parseWsb('<Configuration/>');
    let caught: unknown;
    try {
      wsbToSandboxOptions(config, overrides as never);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).field).toBe(field);
  });
});
