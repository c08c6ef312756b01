/**
 * The API's OpenAPI 3.1 document, built from this one description (served at
 * `GET /v1/openapi.json`, checked in as docs/remote-api.openapi.json; a unit
 * test keeps the two equal and checks that every route of the router is
 * described here and nothing else is). Regenerate the checked-in copy with
 * `UPDATE_OPENAPI=1 npx vitest run --project unit test/unit/remote/serve-routes.test.ts`.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const ERROR_STATUSES: Record<string, string> = {
  '400': 'Bad input: INVALID_ARGUMENT (the message names the field) or MALFORMED_BODY',
  '401': 'UNAUTHORIZED: no bearer token, or one the server does not know',
  '404': 'SANDBOX_NOT_FOUND (also for a sandbox of another token), PATH_NOT_FOUND, ROUTE_NOT_FOUND',
  '409': 'conflict or invalid state (SANDBOX_EXISTS, SANDBOX_NOT_RUNNING, ...)',
  '413': 'BODY_TOO_LARGE or OUTPUT_TOO_LARGE',
  '429': 'QUOTA_EXCEEDED',
  '503': 'unavailable on this host (FILES_UNAVAILABLE, HCS_UNAVAILABLE, ...)',
};

function errors(...statuses: string[]): Record<string, unknown> {
  return Object.fromEntries(
    ['401', ...statuses].map((s) => [s, { description: ERROR_STATUSES[s], content: json(ref('Error')) }]),
  );
}

const name = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Sandbox name',
};
const path = {
  name: 'path',
  in: 'query',
  required: true,
  schema: { type: 'string' },
  description: 'Guest path',
};
const info = { description: 'The sandbox', content: json(ref('SandboxInfo')) };
const noContent = { description: 'Done' };

interface Operation {
  summary: string;
  auth?: false;
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

/** Every route: template -> method -> operation. The router's routes must match these keys exactly. */
export const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/v1/health': {
    get: {
      summary: 'Liveness, version and API level (no token needed)',
      auth: false,
      responses: { '200': { description: 'Up', content: json(ref('Health')) } },
    },
  },
  '/v1/openapi.json': {
    get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' }, ...errors() } },
  },
  '/v1/sandboxes': {
    post: {
      summary: 'Create (and start) a sandbox owned by this token',
      requestBody: { required: true, content: json(ref('CreateRequest')) },
      responses: { '201': info, ...errors('400', '409', '429', '503') },
    },
    get: {
      summary: "This token's sandboxes",
      responses: {
        '200': {
          description: 'List',
          content: json({
            type: 'object',
            properties: { sandboxes: { type: 'array', items: ref('SandboxInfo') } },
          }),
        },
        ...errors(),
      },
    },
  },
  '/v1/sandboxes/{name}': {
    get: { summary: 'Inspect', parameters: [name], responses: { '200': info, ...errors('404') } },
    delete: {
      summary: 'Remove (stops it first)',
      parameters: [name],
      responses: { '204': noContent, ...errors('404', '409') },
    },
  },
  '/v1/sandboxes/{name}/stop': {
    post: {
      summary: 'Stop (graceful, then terminate after timeoutMs)',
      parameters: [name],
      requestBody: {
        content: json({
          type: 'object',
          properties: { timeoutMs: { type: 'number' } },
          additionalProperties: false,
        }),
      },
      responses: { '200': info, ...errors('400', '404', '409') },
    },
  },
  '/v1/sandboxes/{name}/start': {
    post: { summary: 'Start', parameters: [name], responses: { '200': info, ...errors('404', '409') } },
  },
  '/v1/sandboxes/{name}/kill': {
    post: {
      summary: 'Terminate at once',
      parameters: [name],
      responses: { '200': info, ...errors('404', '409') },
    },
  },
  '/v1/sandboxes/{name}/keepalive': {
    post: {
      summary: 'Renew the lease',
      parameters: [name],
      responses: { '204': noContent, ...errors('404') },
    },
  },
  '/v1/sandboxes/{name}/commands': {
    post: {
      summary: 'Run a command to its end (a non-zero exit is not an HTTP error)',
      parameters: [name],
      requestBody: { required: true, content: json(ref('RunRequest')) },
      responses: {
        '200': { description: 'Result', content: json(ref('RunResult')) },
        ...errors('400', '404', '409', '413'),
      },
    },
  },
  '/v1/sandboxes/{name}/commands/stream': {
    get: {
      summary:
        'WebSocket upgrade: first message {"type":"start","command",...}; binary messages are stdin (client) or ' +
        'channel byte (1 stdout, 2 stderr) + bytes (server); text {"type":"stdin-end"|"kill"|"resize"}; ' +
        'the server ends with {"type":"exit","exitCode","timedOut"} and close 1000',
      parameters: [name],
      responses: { '101': { description: 'Switching protocols' }, ...errors('404') },
    },
  },
  '/v1/sandboxes/{name}/files': {
    get: {
      summary: "A file's bytes",
      parameters: [name, path],
      responses: {
        '200': { description: 'Bytes', content: { 'application/octet-stream': {} } },
        ...errors('400', '404', '409', '503'),
      },
    },
    put: {
      summary: 'Write a file (the body is its bytes, at most --max-file-bytes)',
      parameters: [name, path],
      requestBody: { required: true, content: { 'application/octet-stream': {} } },
      responses: { '204': noContent, ...errors('400', '404', '409', '413', '503') },
    },
    delete: {
      summary: 'Remove a file, or a folder (its contents with recursive=true)',
      parameters: [
        name,
        path,
        { name: 'recursive', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } },
      ],
      responses: { '204': noContent, ...errors('400', '404', '409', '503') },
    },
  },
  '/v1/sandboxes/{name}/files/list': {
    get: {
      summary: "A folder's entries (links reported, never followed)",
      parameters: [name, path],
      responses: {
        '200': {
          description: 'Entries',
          content: json({
            type: 'object',
            properties: { entries: { type: 'array', items: ref('FileEntry') } },
          }),
        },
        ...errors('400', '404', '409', '503'),
      },
    },
  },
  '/v1/images': {
    get: {
      summary: 'Images every source offers',
      responses: {
        '200': {
          description: 'List',
          content: json({ type: 'object', properties: { images: { type: 'array' } } }),
        },
        ...errors(),
      },
    },
  },
  '/v1/images/pull': {
    post: {
      summary:
        'Pull an image: NDJSON progress lines, then {"type":"done","image"} or {"type":"error","error"}',
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          required: ['reference'],
          properties: { reference: { type: 'string' } },
        }),
      },
      responses: {
        '200': { description: 'Progress stream', content: { 'application/x-ndjson': {} } },
        ...errors('400'),
      },
    },
  },
};

const strings = { type: 'object', additionalProperties: { type: 'string' } };
const command = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] };

const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  Health: {
    type: 'object',
    properties: { status: { const: 'ok' }, version: { type: 'string' }, api: { const: 1 } },
  },
  CreateRequest: {
    type: 'object',
    required: ['image'],
    additionalProperties: false,
    properties: {
      image: { type: 'string' },
      name: { type: 'string' },
      isolation: { enum: ['process', 'hyperv', 'vm'] },
      memoryMB: { type: 'integer' },
      cpus: { type: 'integer' },
      cpuLimit: { type: 'number' },
      network: { enum: ['nat', 'isolated', 'internal', 'none'] },
      env: strings,
      workingDir: { type: 'string' },
      hostName: { type: 'string' },
      persistent: { type: 'boolean', default: false },
      lifetimeSeconds: {
        type: 'integer',
        minimum: 1,
        description: "Capped by the token's maxLifetimeSeconds",
      },
    },
  },
  SandboxInfo: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      id: { type: 'string' },
      status: { type: 'string' },
      isolation: { type: 'string' },
      image: { type: ['string', 'null'] },
      persistent: { type: 'boolean' },
      createdAt: { type: 'string' },
      memoryMB: { type: ['integer', 'null'] },
      cpus: { type: ['integer', 'null'] },
      mappedFolders: { type: 'array' },
      scratchBytes: { type: ['integer', 'null'] },
      network: { type: 'string' },
      ports: { type: 'array', items: { type: 'string' } },
      ip: { type: ['string', 'null'] },
    },
  },
  RunRequest: {
    type: 'object',
    required: ['command'],
    additionalProperties: false,
    properties: {
      command,
      cwd: { type: 'string' },
      env: strings,
      timeoutMs: { type: 'number' },
      stdin: { type: 'string', contentEncoding: 'base64' },
      encoding: { enum: ['utf8', 'base64'], default: 'utf8' },
    },
  },
  RunResult: {
    type: 'object',
    properties: {
      exitCode: { type: 'integer' },
      stdout: { type: 'string' },
      stderr: { type: 'string' },
      timedOut: { type: 'boolean' },
    },
  },
  FileEntry: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      type: { enum: ['file', 'directory', 'link', 'other'] },
      size: { type: 'integer' },
      modified: { type: ['string', 'null'], format: 'date-time' },
    },
  },
};

/** The document for a server of `version`. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths = Object.fromEntries(
    Object.entries(OPERATIONS).map(([template, methods]) => [
      template,
      Object.fromEntries(
        Object.entries(methods).map(([method, { auth, ...op }]) => [
          method,
          auth === false ? { ...op, security: [] } : op,
        ]),
      ),
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'hcs-sandbox remote API',
      version,
      description:
        'The HTTP API of `hcs-sandbox serve` (docs/remote.md). Errors are {"error":{"code","message"}}.',
    },
    servers: [{ url: 'http://127.0.0.1:7400' }],
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: SCHEMAS },
  };
}
