import { ConflictError, InvalidStateError, UnavailableError } from '../../internal/errors.js';

/** `view` on a sandbox that has no screen: only a VM sandbox (isolation `vm`) has one. */
export class SandboxNotVmError extends InvalidStateError {
  readonly sandbox: string;
  readonly isolation: string;

  constructor(sandbox: string, isolation: string) {
    super(
      'SANDBOX_NOT_VM',
      `Sandbox ${JSON.stringify(sandbox)} is a ${isolation}-isolated container, which has no screen: ` +
        "view shows the desktop of a VM sandbox (isolation 'vm') only. Use exec to work inside this one.",
    );
    this.sandbox = sandbox;
    this.isolation = isolation;
  }
}

/** The loopback port asked for (`--port`) is taken. */
export class ViewPortInUseError extends ConflictError {
  readonly port: number;

  constructor(port: number, options?: { cause?: unknown }) {
    super(
      'VIEW_PORT_IN_USE',
      `Port ${port} on 127.0.0.1 is already in use: pick another with --port, or leave --port out to use a free one.`,
      options,
    );
    this.port = port;
  }
}

/** The RDP viewer (mstsc.exe) could not be started; nothing is left listening. */
export class ViewerLaunchError extends UnavailableError {
  readonly program: string;

  constructor(program: string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? ` (${options.cause.message})` : '';
    super(
      'VIEWER_UNAVAILABLE',
      `Could not start ${program}${why}. Run view with --no-launch (SDK: launch: false) and open ` +
        'the printed .rdp file or address with another RDP client.',
      options,
    );
    this.program = program;
  }
}
