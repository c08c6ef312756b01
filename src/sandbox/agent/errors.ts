import { HcsSandboxError, UnavailableError } from '../../internal/errors.js';

/**
 * The bytes from the agent (or handed to the codec) are not the agent
 * protocol: a length above the maximum, a truncated frame, a payload that does
 * not parse as its type says. The connection cannot be trusted afterwards.
 */
export class AgentProtocolError extends HcsSandboxError {
  constructor(message: string) {
    super('AGENT_PROTOCOL', `Agent protocol violation: ${message}.`);
  }
}

/** The agent refused or failed one request (its ERROR frame), e.g. a file that does not exist. */
export class AgentRequestError extends HcsSandboxError {
  /** The agent's error code (AgentErrorCode). */
  readonly agentCode: number;
  /** GetLastError() in the guest when a Windows call failed, else 0. */
  readonly win32: number;

  constructor(agentCode: number, win32: number, message: string) {
    super('AGENT_REQUEST_FAILED', `The guest agent refused the request (code ${agentCode}): ${message}`);
    this.agentCode = agentCode;
    this.win32 = win32;
  }
}

/** The connection to the agent closed (or was closed) while requests were pending. */
export class AgentConnectionClosedError extends UnavailableError {
  constructor(detail: string) {
    super('AGENT_CONNECTION_CLOSED', `The connection to the guest agent closed: ${detail}.`);
  }
}
