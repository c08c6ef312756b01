import { ConflictError, HcsSandboxError, UnavailableError } from '../../internal/errors.js';

/**
 * A WIM/ESD file that is not what its header says: too short, a wrong magic,
 * a resource outside the file, an XML description that does not parse.
 * Raised before anything is built.
 */
export class WimFormatError extends HcsSandboxError {
  readonly path: string;
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super('WIM_FORMAT', `${path} is not a readable WIM/ESD file: ${problem}.`, options);
    this.path = path;
  }
}

/**
 * A destructive build step (partition, format, apply, bcdboot) was about to
 * target a disk this build did not create: another disk number, or a disk
 * whose size is not the VHDX's. Nothing was written to it.
 */
export class DiskGuardError extends HcsSandboxError {
  readonly step: string;
  constructor(step: string, problem: string) {
    super(
      'DISK_GUARD',
      `Refusing build step ${step}: ${problem}. Nothing was written; the build stays resumable (or remove it with \`hcs-sandbox vm image rm\`).`,
    );
    this.step = step;
  }
}

/**
 * A VM image build step failed. The image stays `building` with the steps
 * already done recorded: the same command resumes it, `vm image rm` removes it.
 * `cause` is the step's own error.
 */
export class VmImageBuildError extends HcsSandboxError {
  readonly image: string;
  readonly step: string;
  constructor(image: string, step: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      'VM_IMAGE_BUILD_FAILED',
      `Building VM image ${JSON.stringify(image)} failed at step ${step}: ${why} ` +
        `Run the same \`hcs-sandbox vm image build\` command again to resume from this step, ` +
        `or \`hcs-sandbox vm image rm ${image}\` to remove what was built.`,
      { cause },
    );
    this.image = image;
    this.step = step;
  }
}

/** `vm image rm` while sandboxes boot from the image (their disks difference over its base.vhdx). */
export class VmImageInUseError extends ConflictError {
  readonly image: string;
  readonly sandboxes: string[];
  constructor(image: string, sandboxes: string[]) {
    super(
      'VM_IMAGE_IN_USE',
      `VM image ${JSON.stringify(image)} is used by sandbox${sandboxes.length > 1 ? 'es' : ''} ${sandboxes.join(', ')}: remove ${sandboxes.length > 1 ? 'them' : 'it'} first (\`hcs-sandbox rm\`).`,
    );
    this.image = image;
    this.sandboxes = sandboxes;
  }
}

/**
 * `vm image build` stages the guest agent this package ships (dist/agent), and
 * this copy has none: it was built without MinGW-w64 (an install from git on
 * Windows, say). Raised before anything is built.
 */
export class AgentBinariesMissingError extends UnavailableError {
  readonly dir: string;
  constructor(dir: string) {
    super(
      'AGENT_BINARIES_MISSING',
      `This copy of hcs-sandbox has no guest agent (${dir} has no agent.exe and hvsock-relay.exe): ` +
        'install a published package, build them with `node scripts/build-agent.mjs` (needs MinGW-w64), ' +
        'pass your own with --stage <dir>\\agent.exe, or build without the agent (--no-agent: no commands or files in its sandboxes).',
    );
    this.dir = dir;
  }
}
