// OMEMO fingerprints as the window shows them for comparing: groups of eight, lower case.
import { describe, expect, it } from 'vitest';
import { fingerprintGroups, formatFingerprint } from '../../renderer/src/lib/fingerprint';

describe('fingerprints for people to compare', () => {
  const hex = '05A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F'.slice(2) + '01';

  it('cuts 64 hex digits into eight groups of eight, lower case, as other clients show them', () => {
    const groups = fingerprintGroups(hex);
    expect(groups).toHaveLength(8);
    expect(groups.every((g) => /^[0-9a-f]{8}$/.test(g))).toBe(true);
    expect(groups.join('')).toBe(hex.toLowerCase());
    expect(formatFingerprint('A1B2C3D4E5F60718')).toBe('a1b2c3d4 e5f60718');
  });

  it('keeps a short tail as a last group and drops anything that is not a hex digit', () => {
    expect(fingerprintGroups('a1b2 c3d4:e5f6-0718 99')).toEqual(['a1b2c3d4', 'e5f60718', '99']);
    expect(fingerprintGroups('')).toEqual([]);
  });
});
