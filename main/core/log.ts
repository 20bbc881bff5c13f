// The app's log: one line per event in a file beside the archive, rotated at a size cap.
// Callers never pass secrets; the vault test scans this file to prove it.
import fs from 'node:fs';
import path from 'node:path';
import type { Log } from './features/feature';

const MAX_BYTES = 5 * 1024 * 1024;

export function fileLog(dataDir: string, alsoTo?: (line: string) => void): Log {
  const file = path.join(dataDir, 'heron.log');
  return (level, message) => {
    const line = `${new Date().toISOString()} ${level} ${message.replaceAll('\n', '\n  ')}\n`;
    try {
      if (fs.existsSync(file) && fs.statSync(file).size > MAX_BYTES) fs.renameSync(file, `${file}.1`);
      fs.appendFileSync(file, line);
    } catch {
      // Logging must never take the app down (full disk, read-only profile).
    }
    alsoTo?.(line);
  };
}
