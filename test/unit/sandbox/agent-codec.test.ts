import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AgentProtocolError,
  encodeFrame,
  FrameDecoder,
  MAX_PAYLOAD_BYTES,
  PayloadReader,
  PayloadWriter,
} from '../../../src/sandbox/agent/index.js';

describe('agent frame codec (docs/agent-protocol.md)', () => {
  it('round-trips frames split at every byte boundary', () => {
    const frames = [
      encodeFrame(0x14, 7, Buffer.from('hello')),
      encodeFrame(0x13, 0xffffffff),
      encodeFrame(1, 0),
    ];
    const bytes = Buffer.concat(frames);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      expect(got.map((f) => [f.type, f.stream, f.payload.toString()])).toEqual([
        [0x14, 7, 'hello'],
        [0x13, 0xffffffff, ''],
        [1, 0, ''],
      ]);
      expect(() => d.end()).not.toThrow();
    }
  });

  it('refuses a length above the maximum at once, and stays failed', () => {
    const d = new FrameDecoder();
    const header = Buffer.alloc(9);
    header.writeUInt32LE(MAX_PAYLOAD_BYTES + 1, 0);
    expect(() => d.push(header)).toThrow(AgentProtocolError);
    expect(() => d.push(encodeFrame(1, 0))).toThrow(/above the maximum/);
    expect(d.pendingBytes).toBe(0);
  });

  it('reports a stream cut inside a frame', () => {
    const d = new FrameDecoder();
    d.push(encodeFrame(0x14, 1, Buffer.alloc(10)).subarray(0, 12));
    expect(() => d.end()).toThrow(/ended inside a frame/);
  });

  it('refuses to encode what the agent would refuse', () => {
    expect(() => encodeFrame(1, 0, Buffer.alloc(MAX_PAYLOAD_BYTES + 1))).toThrow(AgentProtocolError);
    expect(() => encodeFrame(1, -1)).toThrow(/stream id/);
    expect(() => encodeFrame(256, 0)).toThrow(/frame type/);
  });

  it('payload readers refuse short payloads, trailing bytes and invalid UTF-8 with a typed error', () => {
    const p = new PayloadWriter()
      .u32(5)
      .str('é')
      .u64(2n ** 40n)
      .build();
    const r = new PayloadReader(p, 'T');
    expect([r.u32(), r.str(), r.u64()]).toEqual([5, 'é', 2n ** 40n]);
    expect(() => r.done()).not.toThrow();
    expect(() => new PayloadReader(Buffer.from([1, 2]), 'T').u32()).toThrow(AgentProtocolError);
    const trailing = new PayloadReader(Buffer.from([1, 0, 0, 0, 9]), 'T');
    trailing.u32();
    expect(() => trailing.done()).toThrow(/trailing/);
    expect(() => new PayloadReader(Buffer.from([2, 0, 0, 0, 0xc3, 0x28]), 'T').str()).toThrow(/not UTF-8/);
    expect(() => new PayloadReader(Buffer.from([255, 255, 255, 255]), 'T').str()).toThrow(/too short/);
  });

  it('property: any bytes, split anyhow, give frames or an AgentProtocolError, never another error, bounded', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.array(fc.nat({ max: 2048 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 4096 }),
        (bytes, cuts, maxPayload) => {
          const whole = new FrameDecoder(maxPayload);
          let expected: string[] | 'error';
          try {
            expected = whole.push(bytes).map((f) => `${f.type}/${f.stream}/${f.payload.toString('hex')}`);
          } catch (error) {
            expect(error).toBeInstanceOf(AgentProtocolError);
            expected = 'error';
          }
          const pieces = new FrameDecoder(maxPayload);
          const got: string[] = [];
          let failed = false;
          let at = 0;
          for (const cut of [...cuts.sort((a, b) => a - b), bytes.length]) {
            const end = Math.min(Math.max(cut, at), bytes.length);
            try {
              got.push(
                ...pieces
                  .push(bytes.subarray(at, end))
                  .map((f) => `${f.type}/${f.stream}/${f.payload.toString('hex')}`),
              );
            } catch (error) {
              expect(error).toBeInstanceOf(AgentProtocolError);
              failed = true;
              break;
            }
            expect(pieces.pendingBytes).toBeLessThanOrEqual(9 + maxPayload);
            at = end;
          }
          if (expected === 'error') expect(failed).toBe(true);
          else expect(got).toEqual(expected);
        },
      ),
      { seed: 15, numRuns: 500 },
    );
  });
});
