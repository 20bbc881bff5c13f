// Finds the Electron executable without require('electron'), which starts a download when the
// binary is missing (as it is wherever ELECTRON_SKIP_BINARY_DOWNLOAD=1 was used).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The executable's path, or undefined when this install has none. */
export function electronBinary() {
  let dir;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
  // electron's install script records the executable's path inside dist/ in path.txt.
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const relative = readFileSync(pathFile, 'utf8');
  const base = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(dir, 'dist');
  const binary = path.join(base, relative);
  return existsSync(binary) ? binary : undefined;
}
