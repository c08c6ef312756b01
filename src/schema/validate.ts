/**
 * Strict validation of HCS documents against Microsoft's published schema
 * (converted to JSON Schema by scripts/generate-schema.mjs) with Ajv.
 *
 * Strict means: every object definition rejects properties it does not declare,
 * enums and integer ranges are enforced, and Ajv runs in `strict: true` mode. The
 * extension fields of `extensions.ts` are accepted (and checked) unless
 * `{ extensions: false }` is passed.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { dependency } from '../internal/lazy-dependency.js';
import { HCS_SCHEMA_EXTENSIONS } from './extensions.js';
import { HCS_JSON_SCHEMA_DEFINITIONS } from './generated/hcs-json-schema.js';

export interface HcsValidationResult {
  valid: boolean;
  /** One line per problem: `<instance path>: <message>`. Empty when valid. */
  errors: string[];
}

export interface HcsValidator {
  /** Validates `value` against the named definition (e.g. `ComputeSystem`, `ProcessParameters`). */
  validate(definition: string, value: unknown): HcsValidationResult;
  /** The JSON Schema in use: `{ $id, definitions }`. */
  readonly schema: { $id: string; definitions: Record<string, object> };
}

interface ObjectSchema {
  type?: string;
  properties?: Record<string, object>;
  additionalProperties?: unknown;
}

/**
 * Builds the JSON Schema document (all definitions), optionally merged with the
 * extension fragment.
 */
export function buildHcsJsonSchema(options: { extensions?: boolean } = {}): {
  $id: string;
  definitions: Record<string, object>;
} {
  const definitions: Record<string, object> = structuredClone(
    HCS_JSON_SCHEMA_DEFINITIONS as Record<string, object>,
  );
  if (options.extensions !== false) {
    for (const [name, extra] of Object.entries(HCS_SCHEMA_EXTENSIONS.properties)) {
      const def = definitions[name] as ObjectSchema | undefined;
      if (!def?.properties) throw new Error(`extension targets unknown definition ${name}`);
      for (const [prop, schema] of Object.entries(extra)) {
        if (prop in def.properties) throw new Error(`extension ${name}.${prop} is already in the schema`);
        def.properties[prop] = structuredClone(schema);
      }
    }
    for (const [name, schema] of Object.entries(HCS_SCHEMA_EXTENSIONS.definitions)) {
      if (name in definitions) throw new Error(`extension definition ${name} is already in the schema`);
      definitions[name] = structuredClone(schema);
    }
  }
  return { $id: options.extensions === false ? 'hcs-strict' : 'hcs-strict-ext', definitions };
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown property ${JSON.stringify(params.additionalProperty)}`;
  }
  if (error.keyword === 'enum') {
    return `${where}: must be one of ${JSON.stringify(params.allowedValues)}`;
  }
  return `${where}: ${error.message ?? error.keyword}`;
}

/** Creates a validator. Compiling is lazy and cached per definition. */
export function createHcsValidator(options: { extensions?: boolean } = {}): HcsValidator {
  const schema = buildHcsJsonSchema(options);
  const { Ajv } = dependency('ajv');
  const ajv = new Ajv({ strict: true, allErrors: true });
  ajv.addSchema(schema);
  const compiled = new Map<string, ValidateFunction>();
  return {
    schema,
    validate(definition, value) {
      if (!(definition in schema.definitions)) {
        throw new Error(`unknown HCS schema definition ${definition}`);
      }
      let fn = compiled.get(definition);
      if (!fn) {
        fn = ajv.compile({ $ref: `${schema.$id}#/definitions/${definition}` });
        compiled.set(definition, fn);
      }
      const valid = fn(value);
      return { valid, errors: valid ? [] : (fn.errors ?? []).map(formatError) };
    },
  };
}

let shared: HcsValidator | undefined;

/** Validates with a shared, extension-aware validator. */
export function validateHcsDocument(definition: string, value: unknown): HcsValidationResult {
  shared ??= createHcsValidator();
  return shared.validate(definition, value);
}
