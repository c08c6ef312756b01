import { WsbError } from '../errors.js';
import {
  MEMORY_VALUES,
  WSB_MAX_MEMORY_MB,
  type WsbConfig,
  type WsbGpu,
  type WsbMappedFolder,
  type WsbPosition,
  type WsbSettingName,
  type WsbToggle,
  type WsbToggleKey,
} from './config.js';
import { checkTextSize, decode, readBounded, WSB_MAX_FILE_BYTES } from './input.js';
import { defaultSandboxFolder, hostPathProblem, sandboxPathProblem, windowsPathKey } from './paths.js';
import { parseXmlTree, type XmlElement } from './xml.js';

export { WSB_MAX_FILE_BYTES };

/**
 * Reader for Windows Sandbox configuration files (`.wsb`): bytes or text to a
 * typed {@link WsbConfig}, or a `WsbError` naming file, line and column.
 */

export interface ParseWsbOptions {
  /** Shown in errors; defaults to `<input>`. */
  fileName?: string;
}

const TOGGLE_VALUES = 'Enable, Disable or Default (any case; True/False are read as Enable/Disable)';
const GPU_VALUES = 'Enable, Disable, Default or EnableVendorExtensions (any case)';
const BOOLEAN_VALUES = 'true or false (any case)';

interface TopLevel {
  name: WsbSettingName;
  kind: 'toggle' | 'gpu' | 'memory' | 'folders' | 'logon';
  key?: WsbToggleKey;
}

const TOP_LEVEL: readonly TopLevel[] = [
  { name: 'vGPU', kind: 'gpu' },
  { name: 'Networking', kind: 'toggle', key: 'networking' },
  { name: 'MappedFolders', kind: 'folders' },
  { name: 'LogonCommand', kind: 'logon' },
  { name: 'AudioInput', kind: 'toggle', key: 'audioInput' },
  { name: 'VideoInput', kind: 'toggle', key: 'videoInput' },
  { name: 'ProtectedClient', kind: 'toggle', key: 'protectedClient' },
  { name: 'PrinterRedirection', kind: 'toggle', key: 'printerRedirection' },
  { name: 'ClipboardRedirection', kind: 'toggle', key: 'clipboardRedirection' },
  { name: 'MemoryInMB', kind: 'memory' },
];

const FOLDER_CHILDREN = ['HostFolder', 'SandboxFolder', 'ReadOnly'] as const;

/**
 * Parses the text (or bytes) of a `.wsb` file. Bytes may be UTF-8 (with or
 * without a BOM) or UTF-16 with a BOM (what Notepad's "Unicode" and Windows
 * PowerShell's `Out-File` write). Element names are matched without regard to
 * case, since Microsoft's own samples spell `vGPU` three ways; values too.
 * Bytes, or text measured in UTF-8, over {@link WSB_MAX_FILE_BYTES} are refused.
 *
 * @throws WsbError (code `WSB_INVALID`) with file, line and column.
 */
export function parseWsb(input: string | Uint8Array, options: ParseWsbOptions = {}): WsbConfig {
  const fileName = options.fileName ?? '<input>';
  const text =
    typeof input === 'string'
      ? checkTextSize(input.replace(/^\uFEFF/, ''), fileName)
      : decode(input, fileName);
  const root = parseXmlTree(text, fileName);
  return new Reader(fileName).configuration(root);
}

/**
 * Reads and parses a `.wsb` file; errors name `path`. Reads at most one byte
 * more than {@link WSB_MAX_FILE_BYTES}, so a path naming an endless device
 * or a huge file is refused without reading it all.
 */
export async function readWsbFile(path: string): Promise<WsbConfig> {
  return parseWsb(await readBounded(path), { fileName: path });
}

class Reader {
  constructor(private readonly fileName: string) {}

  fail(at: XmlElement | WsbPosition, element: string, problem: string, allowed?: string): never {
    throw new WsbError({
      fileName: this.fileName,
      line: at.line,
      column: at.column,
      element,
      problem,
      ...(allowed ? { allowed } : {}),
    });
  }

  configuration(root: XmlElement): WsbConfig {
    if (root.name.toLowerCase() !== 'configuration') {
      this.fail(root, root.name, `the root element is <${root.name}>`, '<Configuration>');
    }
    this.noAttributes(root, 'Configuration');
    this.noText(root, 'Configuration');
    const config: WsbConfig = { fileName: this.fileName, mappedFolders: [], positions: {} };
    const seen = new Map<string, XmlElement>();
    for (const child of root.children) {
      const spec = TOP_LEVEL.find((s) => s.name.toLowerCase() === child.name.toLowerCase());
      const path = `Configuration/${child.name}`;
      if (!spec) {
        this.fail(
          child,
          path,
          `unknown element <${child.name}> in <Configuration>`,
          TOP_LEVEL.map((s) => `<${s.name}>`).join(', '),
        );
      }
      this.once(seen, child, spec.name, path);
      this.noAttributes(child, path);
      config.positions[spec.name] = { line: child.line, column: child.column };
      switch (spec.kind) {
        case 'gpu':
          config.vGPU = this.gpu(child, path);
          break;
        case 'toggle':
          config[spec.key!] = this.toggle(child, path);
          break;
        case 'memory':
          config.memoryInMB = this.memory(child, path);
          break;
        case 'folders':
          config.mappedFolders = this.folders(child, path);
          break;
        case 'logon': {
          const command = this.logon(child, path);
          config.logonCommand = command;
          break;
        }
      }
    }
    return config;
  }

  private once(seen: Map<string, XmlElement>, element: XmlElement, name: string, path: string): void {
    const first = seen.get(name.toLowerCase());
    if (first) {
      this.fail(
        element,
        path,
        `<${name}> appears twice (first at line ${first.line}, column ${first.column})`,
        `one <${name}>`,
      );
    }
    seen.set(name.toLowerCase(), element);
  }

  private noAttributes(element: XmlElement, path: string): void {
    const names = Object.keys(element.attributes).filter((n) => n !== 'xmlns' && !n.startsWith('xmlns:'));
    if (names.length > 0) {
      this.fail(element, path, `<${element.name}> has an attribute ${names[0]}`, 'no attributes');
    }
  }

  private noText(element: XmlElement, path: string): void {
    const text = element.text.trim();
    if (text !== '') {
      this.fail(
        element,
        path,
        `<${element.name}> contains text ${JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text)}`,
        'only child elements',
      );
    }
  }

  /** The trimmed text of an element that must not have children. */
  private leaf(element: XmlElement, path: string): string {
    const child = element.children[0];
    if (child) {
      this.fail(
        child,
        `${path}/${child.name}`,
        `<${element.name}> takes a value, not a child element <${child.name}>`,
      );
    }
    return element.text.trim();
  }

  private toggle(element: XmlElement, path: string): WsbToggle {
    const value = this.leaf(element, path);
    switch (value.toLowerCase()) {
      case 'enable':
      case 'true':
        return 'Enable';
      case 'disable':
      case 'false':
        return 'Disable';
      case 'default':
        return 'Default';
      default:
        return this.fail(element, path, this.badValue(element, value), TOGGLE_VALUES);
    }
  }

  private gpu(element: XmlElement, path: string): WsbGpu {
    const value = this.leaf(element, path);
    if (value.toLowerCase() === 'enablevendorextensions') return 'EnableVendorExtensions';
    if (['enable', 'disable', 'default'].includes(value.toLowerCase())) return this.toggle(element, path);
    return this.fail(element, path, this.badValue(element, value), GPU_VALUES);
  }

  private memory(element: XmlElement, path: string): number {
    const value = this.leaf(element, path);
    if (!/^\d+$/.test(value)) return this.fail(element, path, this.badValue(element, value), MEMORY_VALUES);
    const mb = Number(value);
    if (mb < 1 || mb > WSB_MAX_MEMORY_MB) {
      return this.fail(element, path, this.badValue(element, value), MEMORY_VALUES);
    }
    return mb;
  }

  private badValue(element: XmlElement, value: string): string {
    return value === ''
      ? `<${element.name}> is empty`
      : `<${element.name}> has the value ${JSON.stringify(value)}`;
  }

  private logon(element: XmlElement, path: string): string {
    this.noText(element, path);
    let command: string | undefined;
    const seen = new Map<string, XmlElement>();
    for (const child of element.children) {
      const childPath = `${path}/${child.name}`;
      if (child.name.toLowerCase() !== 'command') {
        this.fail(child, childPath, `unknown element <${child.name}> in <LogonCommand>`, '<Command>');
      }
      this.once(seen, child, 'Command', childPath);
      this.noAttributes(child, childPath);
      command = this.leaf(child, childPath);
      if (command === '') this.fail(child, childPath, '<Command> is empty', 'a command line');
    }
    if (command === undefined) {
      this.fail(element, path, '<LogonCommand> has no <Command>', 'exactly one <Command>');
    }
    return command;
  }

  private folders(element: XmlElement, path: string): WsbMappedFolder[] {
    this.noText(element, path);
    const folders: WsbMappedFolder[] = [];
    const targets = new Map<string, WsbMappedFolder>();
    element.children.forEach((child) => {
      const childPath = `${path}/${child.name}[${folders.length + 1}]`;
      if (child.name.toLowerCase() !== 'mappedfolder') {
        this.fail(
          child,
          `${path}/${child.name}`,
          `unknown element <${child.name}> in <MappedFolders>`,
          '<MappedFolder>',
        );
      }
      const folder = this.folder(child, childPath);
      const key = windowsPathKey(folder.sandboxFolder);
      const clash = targets.get(key);
      if (clash) {
        this.fail(
          child,
          childPath,
          `two folders map to ${folder.sandboxFolder} (the other at line ${clash.position.line})`,
          'a different SandboxFolder for each MappedFolder',
        );
      }
      targets.set(key, folder);
      folders.push(folder);
    });
    return folders;
  }

  private folder(element: XmlElement, path: string): WsbMappedFolder {
    this.noAttributes(element, path);
    this.noText(element, path);
    const seen = new Map<string, XmlElement>();
    const values: Partial<Record<(typeof FOLDER_CHILDREN)[number], { value: string; at: XmlElement }>> = {};
    for (const child of element.children) {
      const name = FOLDER_CHILDREN.find((n) => n.toLowerCase() === child.name.toLowerCase());
      const childPath = `${path}/${child.name}`;
      if (!name) {
        this.fail(
          child,
          childPath,
          `unknown element <${child.name}> in <MappedFolder>`,
          FOLDER_CHILDREN.map((n) => `<${n}>`).join(', '),
        );
      }
      this.once(seen, child, name, childPath);
      this.noAttributes(child, childPath);
      values[name] = { value: this.leaf(child, childPath), at: child };
    }

    const host = values.HostFolder;
    if (!host) {
      return this.fail(
        element,
        path,
        '<MappedFolder> has no <HostFolder>',
        'a <HostFolder> with an absolute host path',
      );
    }
    const hostProblem = host.value === '' ? 'it is empty' : hostPathProblem(host.value);
    if (hostProblem) {
      this.fail(
        host.at,
        `${path}/HostFolder`,
        `<HostFolder> ${JSON.stringify(host.value)} is not an absolute host path: ${hostProblem}`,
        'an absolute path such as C:\\Tools or \\\\server\\share\\tools',
      );
    }

    let sandboxFolder: string;
    let sandboxFolderDefaulted = false;
    const target = values.SandboxFolder;
    if (target) {
      const problem = target.value === '' ? 'it is empty' : sandboxPathProblem(target.value);
      if (problem) {
        this.fail(
          target.at,
          `${path}/SandboxFolder`,
          `<SandboxFolder> ${JSON.stringify(target.value)} is not an absolute path in the sandbox: ${problem}`,
          'an absolute path such as C:\\Tools (or no <SandboxFolder>, for the desktop)',
        );
      }
      sandboxFolder = target.value;
    } else {
      const fallback = defaultSandboxFolder(host.value);
      if (!fallback) {
        return this.fail(
          element,
          path,
          `<HostFolder> ${JSON.stringify(host.value)} is a drive or share root, which has no folder name to put on the desktop`,
          'a <SandboxFolder> for a root',
        );
      }
      sandboxFolder = fallback;
      sandboxFolderDefaulted = true;
    }

    let readOnly = false;
    const ro = values.ReadOnly;
    if (ro) {
      const value = ro.value.toLowerCase();
      if (value !== 'true' && value !== 'false') {
        this.fail(ro.at, `${path}/ReadOnly`, this.badValue(ro.at, ro.value), BOOLEAN_VALUES);
      }
      readOnly = value === 'true';
    }
    return {
      hostFolder: host.value,
      sandboxFolder,
      sandboxFolderDefaulted,
      readOnly,
      position: { line: element.line, column: element.column },
    };
  }
}
