import { describe, expect, it } from 'vitest';
import { createHcsValidator, HCS_EXTENSION_FIELDS } from '../../../src/schema/index.js';
import { BUILDER_CASES } from './cases.js';

// Every document every builder emits is validated against Microsoft's schema
// (converted to strict JSON Schema: unknown properties rejected) with Ajv in strict
// mode. Extension fields are checked against the extension fragment.
const strict = createHcsValidator();

function extensionPaths(value: unknown, path = ''): string[] {
  // Lists the extension properties present in a document, by property name.
  const names = new Set(HCS_EXTENSION_FIELDS.map((f) => f.property));
  const out: string[] = [];
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (names.has(k)) out.push(`${path}/${k}`);
      out.push(...extensionPaths(v, `${path}/${k}`));
    }
  }
  return out;
}

describe('every emitted document validates against the HCS schema', () => {
  for (const c of BUILDER_CASES) {
    it(c.name, () => {
      const docs = c.build();
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        const result = strict.validate(doc.definition, doc.value);
        expect(result.errors, `${doc.definition}: ${JSON.stringify(doc.value)}`).toEqual([]);
      }
    });
  }

  it('documents without extension fields also pass the schema with extensions switched off', () => {
    const plain = createHcsValidator({ extensions: false });
    let checked = 0;
    for (const c of BUILDER_CASES) {
      for (const doc of c.build()) {
        if (extensionPaths(doc.value).length > 0) continue;
        expect(plain.validate(doc.definition, doc.value).errors).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('documents with extension fields fail without the extension fragment (so the fragment is what admits them)', () => {
    const plain = createHcsValidator({ extensions: false });
    const withExt = BUILDER_CASES.flatMap((c) => c.build()).filter((d) => extensionPaths(d.value).length > 0);
    expect(withExt.length).toBeGreaterThan(0);
    for (const doc of withExt) {
      const r = plain.validate(doc.definition, doc.value);
      expect(r.valid).toBe(false);
      expect(r.errors.every((e) => e.includes('unknown property'))).toBe(true);
    }
  });
});

describe('the strict validator', () => {
  it('rejects properties the schema does not define, at any depth', () => {
    expect(strict.validate('ComputeSystem', { Owner: 'x', Bogus: 1 }).errors).toEqual([
      '(root): unknown property "Bogus"',
    ]);
    const r = strict.validate('ComputeSystem', {
      Container: { Storage: { Layers: [{ Id: 'x', Paht: 'C:\\' }] } },
    });
    expect(r.valid).toBe(false);
    expect(r.errors.join('\n')).toContain('unknown property "Paht"');
    expect(r.errors.join('\n')).toContain('/Container/Storage/Layers/0/Id');
  });

  it('checks enums, integer ranges, types and patterns', () => {
    expect(strict.validate('ModifySettingRequest', { RequestType: 'Replace' }).valid).toBe(false);
    expect(strict.validate('ProcessParameters', { ConsoleSize: [70000, 10] }).valid).toBe(false);
    expect(strict.validate('Version', { Major: -1 }).valid).toBe(false);
    expect(strict.validate('Version', { Major: '2' }).valid).toBe(false);
    expect(strict.validate('NetworkAdapter', { EndpointId: 'nope' }).valid).toBe(false);
    expect(strict.validate('NetworkAdapter', { MacAddress: '00-15-5D-52-C0-10' }).valid).toBe(true);
    expect(strict.validate('NetworkAdapter', { MacAddress: 'zz' }).valid).toBe(false);
  });

  it('treats the schema reference "Any" (bare object) as any value', () => {
    expect(strict.validate('ModifySettingRequest', { Settings: 4096 }).valid).toBe(true);
    expect(strict.validate('ComputeSystem', { HostedSystem: { Anything: true } }).valid).toBe(true);
  });

  it('accepts marker devices only as empty objects', () => {
    expect(strict.validate('Devices', { Battery: {}, Keyboard: {} }).valid).toBe(true);
    expect(strict.validate('Devices', { Battery: { On: true } }).valid).toBe(false);
  });

  it('checks extension fields against the fragment', () => {
    const ok = {
      VirtualMachine: {
        ComputeTopology: { Memory: { Backing: 'Virtual' } },
        LaunchOptions: { Type: 'None' },
      },
    };
    expect(strict.validate('ComputeSystem', ok).valid).toBe(true);
    const bad = {
      VirtualMachine: { ComputeTopology: { Memory: { Backing: 'Paged' } }, RunInSilo: { Extra: 1 } },
    };
    const r = strict.validate('ComputeSystem', bad);
    expect(r.errors.join('\n')).toContain('/VirtualMachine/ComputeTopology/Memory/Backing');
    expect(r.errors.join('\n')).toContain('unknown property "Extra"');
  });

  it('throws on an unknown definition name', () => {
    expect(() => strict.validate('NoSuchThing', {})).toThrow(/unknown HCS schema definition/);
  });
});
