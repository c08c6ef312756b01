import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeadTail } from '../../../src/mcp/output-cap.js';

describe('HeadTail', () => {
  it('keeps text within the limit whole', () => {
    const kept = new HeadTail(10, 3);
    kept.append('hello');
    kept.append('world');
    expect(kept.result()).toEqual({ text: 'helloworld', truncated: false });
    expect(kept.total).toBe(10);
  });

  it('keeps the start and the end of longer text, saying how much it left out', () => {
    const kept = new HeadTail(10, 3);
    for (const chunk of ['abc', 'defgh', 'ijklmnop', 'qrstu']) kept.append(chunk);
    expect(kept.result()).toEqual({
      text: 'abc\n[... 11 characters left out ...]\nopqrstu',
      truncated: true,
    });
  });

  it('gives the same result however the text arrives in chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 30 }), (chunks) => {
        const whole = chunks.join('');
        const kept = new HeadTail(25, 7);
        for (const chunk of chunks) kept.append(chunk);
        const expected =
          whole.length <= 25
            ? whole
            : `${whole.slice(0, 7)}\n[... ${whole.length - 25} characters left out ...]\n${whole.slice(-18)}`;
        expect(kept.result()).toEqual({ text: expected, truncated: whole.length > 25 });
      }),
    );
  });
});
