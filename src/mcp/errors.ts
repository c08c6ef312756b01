import { HcsSandboxError, InvalidStateError } from '../internal/errors.js';

/**
 * A tool that applies to some sandboxes only (a desktop tool needs a VM's
 * screen) was called on one it does not apply to.
 */
export class ToolNotApplicableError extends InvalidStateError {
  readonly tool: string;
  readonly sandbox: string;

  constructor(tool: string, sandbox: string, requirement: string) {
    super(
      'TOOL_NOT_APPLICABLE',
      `${tool} does not apply to sandbox ${JSON.stringify(sandbox)}: it needs ${requirement}. ` +
        'Create a sandbox that has it (sandbox_create), or use another tool.',
    );
    this.tool = tool;
    this.sandbox = sandbox;
  }
}

/** A tool call arrived while the MCP session was ending (its sandboxes being removed). */
export class SessionEndedError extends InvalidStateError {
  constructor() {
    super(
      'SESSION_ENDED',
      'The MCP session is ending: its sandboxes are being removed and no new ones are made. Start a new session.',
    );
  }
}

/** A file bigger than a tool hands back or takes in one call. */
export class FileTooLargeError extends HcsSandboxError {
  readonly path: string;
  readonly size: number;
  readonly limit: number;

  constructor(path: string, size: number, limit: number, instead: string) {
    super(
      'FILE_TOO_LARGE',
      `${path} is ${size} bytes, over the ${limit} bytes this tool handles. ${instead}`,
    );
    this.path = path;
    this.size = size;
    this.limit = limit;
  }
}
