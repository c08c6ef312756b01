import { readFile } from 'node:fs/promises';
import type { AttachedVhdx, BuildHost, CommandOutcome, MountedIso } from '../../../../src/storage/index.js';

/**
 * An image build's host in memory: files in a map, commands recorded and
 * answered by rules (bcdboot writes the BCD store as the real one does), the
 * VHDX attached as disk `diskNumber` of its capacity. `failAt` makes one
 * step fail once, so resume can be tested at every step.
 */
export class FakeBuildHost implements BuildHost {
  readonly system32 = 'C:\\Windows\\System32';
  readonly files = new Map<string, string>();
  readonly commands: string[][] = [];
  readonly log: string[] = [];
  diskNumber = 3;
  /** Disk sizes as Windows would report them (ours is set when the VHDX is created). */
  readonly diskSizes = new Map<number, number>([[0, 512 * 2 ** 30]]);
  /** The disk each mounted path is on. */
  readonly mounts = new Map<string, number>();
  attached = false;
  elevated = true;
  freeBytes = 10 * 2 ** 40;
  isoRoot: string | undefined;
  /** A program (base name, lowercase) or action that fails the next time it runs. */
  failAt: string | undefined;
  /** False: bcdboot exits 0 but writes no BCD (what the image's own bcdboot can do). */
  bcdbootWrites = true;

  #maybeFail(what: string): void {
    if (this.failAt === what) {
      this.failAt = undefined;
      throw new Error(`simulated failure of ${what}`);
    }
  }

  requireElevation(operation: string): void {
    if (!this.elevated) throw new Error(`${operation}: not elevated`);
  }

  async freeSpace() {
    return { volume: 'C:\\', freeBytes: this.freeBytes };
  }

  async run(argv: readonly string[]): Promise<CommandOutcome> {
    this.commands.push([...argv]);
    const program = argv[0]!.split('\\').pop()!.toLowerCase();
    const key = program === 'diskpart.exe' ? `diskpart ${argv[2]!.split('\\').pop()}` : program;
    this.log.push(`run ${key}`);
    if (this.failAt === key) {
      this.failAt = undefined;
      return { exitCode: 1, stdout: `${program} output`, stderr: 'simulated failure' };
    }
    if (program === 'diskpart.exe') {
      const script = this.files.get(argv[2]!) ?? '';
      const letter = /assign letter=(\w)/.exec(script)?.[1];
      const mount = /assign mount="([^"]+)"/.exec(script)?.[1];
      const disk = Number(/select disk (\d+)/.exec(script)?.[1]);
      if (letter) this.mounts.set(`${letter}:\\`, disk);
      if (mount) this.mounts.set(mount, disk);
      if (/remove all/.test(script) && !letter) this.mounts.clear();
    }
    if (program === 'bcdboot.exe' && this.bcdbootWrites)
      this.files.set(`${argv[3]}\\EFI\\Microsoft\\Boot\\BCD`, 'bcd');
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  async createFixedVhdx(path: string, sizeBytes: number): Promise<void> {
    this.log.push('create-disk');
    this.#maybeFail('create-disk');
    this.files.set(path, `vhdx ${sizeBytes}`);
    this.diskSizes.set(this.diskNumber, sizeBytes);
  }

  async attachVhdx(path: string): Promise<AttachedVhdx> {
    if (!this.files.has(path)) throw new Error(`${path} does not exist`);
    this.log.push('attach-disk');
    this.#maybeFail('attach-disk');
    this.attached = true;
    let open = true;
    return {
      physicalPath: async () => {
        if (!open) throw new Error('closed');
        return `\\\\.\\PhysicalDrive${this.diskNumber}`;
      },
      detach: async () => {
        this.log.push('detach-disk');
        this.#maybeFail('detach-disk');
        this.attached = false;
        open = false;
      },
      close: async () => {
        if (open) this.log.push('close-disk');
        this.attached = false;
        open = false;
      },
    };
  }

  async freeDriveLetter() {
    return 'S';
  }

  async mountIso(path: string): Promise<MountedIso> {
    this.log.push(`mount-iso ${path}`);
    if (!this.isoRoot) throw new Error('no ISO root set');
    return { root: this.isoRoot, dismount: async () => void this.log.push('dismount-iso') };
  }

  async diskSize(number: number) {
    return this.diskSizes.get(number) ?? 0;
  }

  async diskNumberOfPath(path: string) {
    return this.mounts.get(path.replace(/\\$/, '')) ?? this.mounts.get(path);
  }

  async writeFile(path: string, text: string) {
    this.log.push(`write ${path.split('\\').pop()}`);
    this.#maybeFail(`write ${path.split('\\').pop()}`);
    this.files.set(path, text);
  }

  async copyFile(from: string, to: string) {
    this.#maybeFail('copy');
    this.files.set(to, await readFile(from, 'utf8'));
  }

  async exists(path: string) {
    return this.files.has(path);
  }

  async mkdir() {}

  async removeFile(path: string) {
    this.files.delete(path);
  }

  async fileSize(path: string) {
    const text = this.files.get(path);
    if (text === undefined) throw new Error(`${path} does not exist`);
    return Number(text.split(' ')[1]) + 4 * 2 ** 20;
  }
}
