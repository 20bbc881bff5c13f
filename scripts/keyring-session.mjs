// Runs each argument as a shell command, in order, with a real but private keychain: an
// unlocked gnome-keyring in this D-Bus session (start it with dbus-run-session) and
// throwaway XDG dirs, so tests never touch the user's own keyring.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
  console.error('keyring-session: run me inside dbus-run-session');
  process.exit(2);
}
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-keyring-'));
const env = { ...process.env, XDG_DATA_HOME: path.join(root, 'data'), XDG_RUNTIME_DIR: path.join(root, 'run') };
fs.mkdirSync(env.XDG_DATA_HOME, { recursive: true });
fs.mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
const started = execFileSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], { env, input: 'heron-test-keyring' }).toString();
const pid = /GNOME_KEYRING_PID=(\d+)/.exec(started)?.[1];

let status = 0;
for (const command of process.argv.slice(2)) {
  const result = spawnSync('sh', ['-c', command], { env, stdio: 'inherit' });
  status = result.status ?? 1;
  if (status !== 0) break;
}
if (pid) process.kill(Number(pid));
fs.rmSync(root, { recursive: true, force: true });
process.exit(status);
