import { describe, expect, it } from 'vitest';
import {
  baseName,
  defaultLayerId,
  LAYER_ID_NAMESPACE,
  layerIdFromFolderName,
  uuidV5,
} from '../../../../src/storage/images/layer-id.js';

describe('layer ids', () => {
  it('uuidV5 matches RFC 4122 reference values', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    expect(uuidV5('6ba7b811-9dad-11d1-80b4-00c04fd430c8', 'urn:hcs-sandbox:layer')).toBe(LAYER_ID_NAMESPACE);
    expect(() => uuidV5('nope', 'x')).toThrow(TypeError);
  });

  it('depends only on the folder name', () => {
    const id = layerIdFromFolderName('abc');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(defaultLayerId('C:\\ProgramData\\docker\\windowsfilter\\abc')).toBe(id);
    expect(defaultLayerId('/tmp/x/abc/')).toBe(id);
    expect(layerIdFromFolderName('abd')).not.toBe(id);
  });

  it('baseName takes either separator', () => {
    expect(baseName('C:\\a\\b')).toBe('b');
    expect(baseName('/a/b//')).toBe('b');
    expect(baseName('b')).toBe('b');
  });
});
