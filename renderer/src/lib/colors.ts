// XEP-0392 Consistent Color Generation: the same JID gets the same colour in every client.
// Angle: SHA-1 of the UTF-8 text, its first two bytes read little-endian, mapped onto 0–360°.
// Colour: that hue in HSLuv at saturation 100 and lightness 50 (HSLuv keeps the perceived
// lightness equal across hues, so white text reads on every one of them alike).
import { sha1 } from '@noble/hashes/legacy.js';

/** The hue angle (degrees) XEP-0392 gives a string. */
export function hueAngle(text: string): number {
  const digest = sha1(new TextEncoder().encode(text));
  return ((digest[0]! + digest[1]! * 256) / 65536) * 360;
}

// CIE constants and the sRGB matrix HSLuv is defined with (hsluv.org, revision 4).
const M = [
  [3.240969941904521, -1.537383177570093, -0.498610760293],
  [-0.96924363628087, 1.87596750150772, 0.041555057407175],
  [0.055630079696993, -0.20397695888897, 1.056971514242878],
] as const;
const REF_U = 0.19783000664283;
const REF_V = 0.46831999493879;
const KAPPA = 903.2962962;
const EPSILON = 0.0088564516;

/** The lines bounding the sRGB gamut in the chroma plane for lightness l. */
function bounds(l: number): Array<{ slope: number; intercept: number }> {
  const sub1 = (l + 16) ** 3 / 1560896;
  const sub2 = sub1 > EPSILON ? sub1 : l / KAPPA;
  const lines: Array<{ slope: number; intercept: number }> = [];
  for (const [m1, m2, m3] of M) {
    for (const t of [0, 1]) {
      const top1 = (284517 * m1 - 94839 * m3) * sub2;
      const top2 = (838422 * m3 + 769860 * m2 + 731718 * m1) * l * sub2 - 769860 * t * l;
      const bottom = (632260 * m3 - 126452 * m2) * sub2 + 126452 * t;
      lines.push({ slope: top1 / bottom, intercept: top2 / bottom });
    }
  }
  return lines;
}

/** The largest chroma sRGB holds at lightness l and hue h (radians). */
function maxChroma(l: number, hRad: number): number {
  let min = Infinity;
  for (const { slope, intercept } of bounds(l)) {
    const length = intercept / (Math.sin(hRad) - slope * Math.cos(hRad));
    if (length >= 0) min = Math.min(min, length);
  }
  return min;
}

const toSrgb = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);

/** HSLuv (h 0–360, s and l 0–100) → sRGB channels 0–1. */
export function hsluvToRgb(h: number, s: number, l: number): [number, number, number] {
  if (l > 99.9999999) return [1, 1, 1];
  if (l < 0.00000001) return [0, 0, 0];
  const hRad = (h / 180) * Math.PI;
  const c = (maxChroma(l, hRad) / 100) * s;
  // LCh(uv) → Luv → XYZ
  const u = Math.cos(hRad) * c;
  const v = Math.sin(hRad) * c;
  const y = l <= 8 ? l / KAPPA : ((l + 16) / 116) ** 3;
  const varU = u / (13 * l) + REF_U;
  const varV = v / (13 * l) + REF_V;
  const x = (9 * y * varU) / (4 * varV);
  const z = (y * (12 - 3 * varU - 20 * varV)) / (4 * varV);
  const clamp = (n: number) => Math.min(1, Math.max(0, n));
  return M.map(([a, b, d]) => clamp(toSrgb(a * x + b * y + d * z))) as [number, number, number];
}

const cache = new Map<string, string>();

/**
 * The XEP-0392 colour of a JID or nickname, as a CSS hex colour. The XEP's lightness is 50;
 * a fill behind white text asks for 42 instead (the XEP lets a client adapt the colour to
 * what surrounds it), because white on lightness 50 falls just short of 4.5:1 (WCAG AA).
 */
export function consistentColor(text: string, lightness = 50): string {
  const key = `${lightness} ${text}`;
  let hex = cache.get(key);
  if (!hex) {
    hex = `#${hsluvToRgb(hueAngle(text), 100, lightness)
      .map((c) => Math.round(c * 255).toString(16).padStart(2, '0'))
      .join('')}`;
    cache.set(key, hex);
  }
  return hex;
}
