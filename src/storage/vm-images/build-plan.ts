import { win32 } from 'node:path';
import { InvalidArgumentError } from '../../internal/errors.js';
import { hasControlCharacter } from './unattend.js';

/**
 * The steps that turn a WIM image into a bootable base VHDX, as data: a pure
 * function of its inputs, so the whole plan is a golden file and the runner
 * (build.ts) only executes, records and guards. The route is the one two
 * peers proved (shared VM-SANDBOXES.md §1c): appsandbox
 * `tools/iso-patch/iso-patch.c` and disco-vm `pkg/machine/hcs/install.ps1`:
 * fixed-size VHDX (a dynamic one hung DISM on disco-vm), GPT with ESP + MSR +
 * NTFS, `dism /Apply-Image`, the *host's* bcdboot (the image's own exits
 * 0xC0E90002 on disco-vm), then `EFI\Microsoft\Boot\BCD` asserted.
 */

/** Program files the image carries for the guest agent (part 2 of issue 14). */
export interface StagingEntry {
  /** A host file. */
  from: string;
  /** Its path under `Program Files\hcs-sandbox\agent\` (relative, no `..`). */
  to: string;
}

export interface BuildPlanInputs {
  /** The base VHDX to create (fixed size). */
  vhdxPath: string;
  /** Its capacity in bytes (a multiple of 1 MiB). */
  sizeBytes: number;
  /** The WIM/ESD to apply, and its 1-based image index. */
  wimPath: string;
  wimIndex: number;
  /** The disk number Windows gave the attached VHDX (`\\.\PhysicalDriveN`). */
  diskNumber: number;
  /** A free drive letter for the ESP while the build runs (bcdboot's `/s` takes a volume letter). */
  espLetter: string;
  /** The build's scratch folder (diskpart scripts, the Windows volume's mount folder). */
  workDir: string;
  /** The host's `%SystemRoot%\System32` (its bcdboot, diskpart, dism, icacls). */
  system32: string;
  /** The answer file and SetupComplete.cmd texts (unattend.ts, renderSetupComplete). */
  unattendXml: string;
  /** The image's credentials file, made readable by administrators only. */
  credentialsPath: string;
  stage: readonly StagingEntry[];
}

export type BuildAction =
  | { action: 'create-disk'; path: string; sizeBytes: number }
  | { action: 'attach-disk'; path: string }
  | { action: 'write-file'; path: string; text: string }
  | { action: 'copy-files'; files: { from: string; to: string }[] }
  | { action: 'assert-file'; path: string; why: string }
  | { action: 'detach-disk'; path: string };

export interface BuildCommand {
  argv: string[];
  /** Written before the command runs (diskpart's script). */
  script?: { path: string; text: string };
  /** Folders created (empty) before the command runs (mount folders). */
  dirs?: string[];
}

/** What a destructive step writes: a disk by number, or the volume behind a path. */
export type DiskTarget = { disk: number } | { path: string };

export interface BuildStep {
  /** Stable name, recorded in the image's `stepsDone`. */
  name: string;
  /** What the step does, for progress lines. */
  title: string;
  /** Run again in every build session (attach, mount) rather than once; never recorded. */
  session?: boolean;
  /** Destructive: the disk guard checks the target is this build's disk first. */
  guard?: DiskTarget;
  run: BuildCommand | BuildAction;
}

export const AGENT_DIR = 'Program Files\\hcs-sandbox\\agent';
/** What SetupComplete.cmd runs to install the agent service (the agent, part 2, implements it). */
export const AGENT_INSTALL_ARGS = ['--install'] as const;
export const ESP_SIZE_MB = 260;
export const MSR_SIZE_MB = 16;

/** Characters a path in a diskpart script or a command line may not contain (they would inject commands). */
const UNSAFE_PATH = /["%]/;

function checkPath(field: string, path: string): void {
  if (!win32.isAbsolute(path) || UNSAFE_PATH.test(path) || hasControlCharacter(path))
    throw new InvalidArgumentError(
      field,
      'an absolute Windows path without quotes, % or control characters',
      path,
    );
}

export function checkStagingEntries(stage: readonly StagingEntry[]): void {
  stage.forEach((entry, i) => {
    checkPath(`stage[${i}].from`, entry.from);
    const parts = entry.to.split(/[\\/]/);
    if (
      entry.to === '' ||
      win32.isAbsolute(entry.to) ||
      /[:*?"<>|]/.test(entry.to) ||
      hasControlCharacter(entry.to) ||
      parts.some((p) => p === '' || p === '.' || p === '..')
    )
      throw new InvalidArgumentError(
        `stage[${i}].to`,
        'a relative path under the agent folder, without "..", drive letters or : * ? " < > |',
        entry.to,
      );
  });
}

/** The diskpart script that lays out GPT: ESP (FAT32), MSR, Windows (NTFS, the rest). */
export function partitionScript(diskNumber: number): string {
  return [
    `rem hcs-sandbox vm image build: GPT layout of disk ${diskNumber} (the VHDX this build attached)`,
    `select disk ${diskNumber}`,
    'clean',
    'convert gpt',
    `create partition efi size=${ESP_SIZE_MB}`,
    'format quick fs=fat32 label="System"',
    `create partition msr size=${MSR_SIZE_MB}`,
    'create partition primary',
    'format quick fs=ntfs label="Windows"',
    '',
  ].join('\r\n');
}

/**
 * Mounts the ESP on a drive letter and the Windows volume on a folder of the
 * work dir (no letter used up). `remove all noerr` first makes it repeatable
 * when a resumed build attaches the disk again.
 */
export function mountScript(diskNumber: number, espLetter: string, windowsMount: string): string {
  return [
    `rem hcs-sandbox vm image build: mount the volumes of disk ${diskNumber}`,
    `select disk ${diskNumber}`,
    'select partition 1',
    'remove all noerr',
    `assign letter=${espLetter}`,
    'select partition 3',
    'remove all noerr',
    `assign mount="${windowsMount}"`,
    '',
  ].join('\r\n');
}

export function unmountScript(diskNumber: number): string {
  return [
    `rem hcs-sandbox vm image build: unmount the volumes of disk ${diskNumber}`,
    `select disk ${diskNumber}`,
    'select partition 1',
    'remove all noerr',
    'select partition 3',
    'remove all noerr',
    '',
  ].join('\r\n');
}

/**
 * Runs once as SYSTEM when Windows Setup finishes (`Windows\Setup\Scripts`).
 * It installs the agent service only when the image carries agent.exe.
 */
export function renderSetupComplete(agentStaged: boolean): string {
  const lines = [
    '@echo off',
    'rem Generated by hcs-sandbox vm image build (docs/vm.md). Windows Setup runs it once, as SYSTEM.',
    `set LOG=%WINDIR%\\Setup\\Scripts\\hcs-sandbox-setup.log`,
    'echo SetupComplete %DATE% %TIME% >> "%LOG%"',
  ];
  if (agentStaged)
    lines.push(
      `"%ProgramFiles%\\hcs-sandbox\\agent\\agent.exe" ${AGENT_INSTALL_ARGS.join(' ')} >> "%LOG%" 2>&1`,
      'echo agent install exit code %ERRORLEVEL% >> "%LOG%"',
    );
  else lines.push('rem No agent.exe was staged in this image: nothing to install.');
  return `${lines.join('\r\n')}\r\n`;
}

/** What the steps that touch an attached image's volumes share (a build and an agent refresh). */
interface VolumeContext {
  vhdxPath: string;
  disk: number;
  espLetter: string;
  /** The Windows volume's mount folder. */
  win: string;
  workDir: string;
  system32: string;
}

function diskpartStep(c: VolumeContext, name: string, text: string): BuildCommand {
  const path = win32.join(c.workDir, `${name}.txt`);
  return { argv: [win32.join(c.system32, 'diskpart.exe'), '/s', path], script: { path, text } };
}

function attachStep(c: VolumeContext): BuildStep {
  return {
    name: 'attach-disk',
    title: 'attach the VHDX (no drive letters)',
    session: true,
    run: { action: 'attach-disk', path: c.vhdxPath },
  };
}

function mountStep(c: VolumeContext): BuildStep {
  return {
    name: 'mount-volumes',
    title: 'mount the ESP and the Windows volume',
    session: true,
    guard: { disk: c.disk },
    run: { ...diskpartStep(c, 'mount', mountScript(c.disk, c.espLetter, c.win)), dirs: [c.win] },
  };
}

/** SetupComplete.cmd (which installs the agent when staged) and the staged files. */
function agentSteps(c: VolumeContext, stage: readonly StagingEntry[]): BuildStep[] {
  const agentDir = win32.join(c.win, AGENT_DIR);
  const agentStaged = stage.some((e) => e.to.toLowerCase() === 'agent.exe');
  return [
    {
      name: 'write-setupcomplete',
      title: 'write SetupComplete.cmd',
      run: {
        action: 'write-file',
        path: win32.join(c.win, 'Windows', 'Setup', 'Scripts', 'SetupComplete.cmd'),
        text: renderSetupComplete(agentStaged),
      },
    },
    {
      name: 'stage-agent',
      title: `stage ${stage.length} agent file(s)`,
      run: {
        action: 'copy-files',
        files: stage.map((e) => ({ from: e.from, to: win32.join(agentDir, e.to.replace(/\//g, '\\')) })),
      },
    },
  ];
}

function unmountAndDetachSteps(c: VolumeContext): BuildStep[] {
  return [
    {
      name: 'unmount-volumes',
      title: 'unmount the volumes',
      // Every session that mounted them, so a resumed build never leaves a mount folder behind.
      session: true,
      guard: { disk: c.disk },
      run: diskpartStep(c, 'unmount', unmountScript(c.disk)),
    },
    { name: 'detach-disk', title: 'detach the VHDX', run: { action: 'detach-disk', path: c.vhdxPath } },
  ];
}

function checkVolumeInputs(inputs: Pick<BuildPlanInputs, 'espLetter' | 'diskNumber'>): void {
  if (!/^[D-Z]$/.test(inputs.espLetter))
    throw new InvalidArgumentError('espLetter', 'a drive letter D-Z', inputs.espLetter);
  if (!Number.isSafeInteger(inputs.diskNumber) || inputs.diskNumber < 0)
    throw new InvalidArgumentError('diskNumber', 'a disk number', inputs.diskNumber);
}

export type AgentRefreshInputs = Pick<
  BuildPlanInputs,
  'vhdxPath' | 'diskNumber' | 'espLetter' | 'workDir' | 'system32' | 'stage'
>;

/**
 * `vm image build --agent-only`: the agent's files and SetupComplete.cmd
 * written again into a ready image, and nothing else. Each sandbox runs Setup
 * (and so SetupComplete) at its first boot, so sandboxes made afterwards get
 * the new agent; the caller makes sure no sandbox differences over the disk.
 */
export function agentRefreshPlan(inputs: AgentRefreshInputs): BuildStep[] {
  for (const field of ['vhdxPath', 'workDir', 'system32'] as const) checkPath(field, inputs[field]);
  checkVolumeInputs(inputs);
  checkStagingEntries(inputs.stage);
  const c = volumeContext(inputs);
  return [attachStep(c), mountStep(c), ...agentSteps(c, inputs.stage), ...unmountAndDetachSteps(c)];
}

function volumeContext(inputs: AgentRefreshInputs): VolumeContext {
  return {
    vhdxPath: inputs.vhdxPath,
    disk: inputs.diskNumber,
    espLetter: inputs.espLetter,
    win: win32.join(inputs.workDir, 'win'),
    workDir: inputs.workDir,
    system32: inputs.system32,
  };
}

export function buildPlan(inputs: BuildPlanInputs): BuildStep[] {
  for (const field of ['vhdxPath', 'wimPath', 'workDir', 'system32', 'credentialsPath'] as const)
    checkPath(field, inputs[field]);
  checkVolumeInputs(inputs);
  if (!Number.isSafeInteger(inputs.wimIndex) || inputs.wimIndex < 1)
    throw new InvalidArgumentError('wimIndex', 'a 1-based image index', inputs.wimIndex);
  checkStagingEntries(inputs.stage);

  const c = volumeContext(inputs);
  const disk = c.disk;
  const esp = `${inputs.espLetter}:\\`;
  const win = c.win;
  const tool = (exe: string) => win32.join(inputs.system32, exe);
  return [
    {
      name: 'protect-credentials',
      title: 'restrict the credentials file to administrators',
      run: {
        argv: [
          tool('icacls.exe'),
          inputs.credentialsPath,
          '/inheritance:r',
          '/grant:r',
          '*S-1-5-32-544:(F)',
          '*S-1-5-18:(F)',
        ],
      },
    },
    {
      name: 'create-disk',
      title: 'create the fixed-size VHDX',
      run: { action: 'create-disk', path: inputs.vhdxPath, sizeBytes: inputs.sizeBytes },
    },
    attachStep(c),
    {
      name: 'partition',
      title: 'partition GPT: ESP, MSR, Windows',
      guard: { disk },
      run: diskpartStep(c, 'partition', partitionScript(disk)),
    },
    mountStep(c),
    {
      name: 'apply-image',
      title: `apply image ${inputs.wimIndex} with DISM`,
      guard: { path: win },
      run: {
        argv: [
          tool('Dism.exe'),
          '/Apply-Image',
          `/ImageFile:${inputs.wimPath}`,
          `/Index:${inputs.wimIndex}`,
          `/ApplyDir:${win}\\`,
        ],
      },
    },
    {
      name: 'bcdboot',
      title: "write UEFI boot files with the host's bcdboot",
      guard: { path: esp },
      run: {
        argv: [tool('bcdboot.exe'), win32.join(win, 'Windows'), '/s', `${inputs.espLetter}:`, '/f', 'UEFI'],
      },
    },
    {
      name: 'assert-bcd',
      title: 'check the boot configuration exists',
      run: {
        action: 'assert-file',
        path: win32.join(esp, 'EFI', 'Microsoft', 'Boot', 'BCD'),
        why: 'bcdboot exited 0 but wrote no BCD store, so the disk would not boot',
      },
    },
    {
      name: 'write-unattend',
      title: 'write the answer file',
      run: {
        action: 'write-file',
        path: win32.join(win, 'Windows', 'Panther', 'unattend.xml'),
        text: inputs.unattendXml,
      },
    },
    ...agentSteps(c, inputs.stage),
    ...unmountAndDetachSteps(c),
  ];
}
