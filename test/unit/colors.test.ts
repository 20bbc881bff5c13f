// XEP-0392 consistent colours, checked against the XEP's own test vectors (§ 6).
import { describe, expect, it } from 'vitest';
import { consistentColor, hsluvToRgb, hueAngle } from '../../renderer/src/lib/colors';

const vectors: Array<[string, number, [number, number, number]]> = [
  ['Romeo', 327.255249, [0.865, 0.0, 0.686]],
  ['juliet@capulet.lit', 209.4104, [0.0, 0.515, 0.573]],
  ['😺', 331.199341, [0.872, 0.0, 0.659]],
  ['council', 359.994507, [0.918, 0.0, 0.394]],
];

describe('XEP-0392 consistent colours', () => {
  it.each(vectors)('gives %s the angle and colour of the XEP', (text, angle, rgb) => {
    expect(hueAngle(text)).toBeCloseTo(angle, 5);
    const got = hsluvToRgb(hueAngle(text), 100, 50);
    got.forEach((c, i) => expect(Math.abs(c - rgb[i]!)).toBeLessThan(0.0015));
  });

  it('gives the same JID the same colour and different JIDs different ones', () => {
    expect(consistentColor('alice@heron.test')).toBe(consistentColor('alice@heron.test'));
    expect(consistentColor('alice@heron.test')).toMatch(/^#[0-9a-f]{6}$/);
    expect(consistentColor('alice@heron.test')).not.toBe(consistentColor('bob@heron.test'));
  });
});
