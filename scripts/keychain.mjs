// The keychain the development commands and the tests run with. Heron stores passwords through
// libsecret, which needs a D-Bus session bus with a Secret Service on it: a desktop session has
// one; a plain shell on a headless machine (ssh, CI, a container) has none.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SECRET_SERVICE = 'org.freedesktop.secrets';

/**
 * Whether libsecret would find a Secret Service from this environment: a session bus (named in
 * DBUS_SESSION_BUS_ADDRESS, or at $XDG_RUNTIME_DIR/bus, where GDBus looks next) on which the
 * service runs or can be started. macOS and Windows have their keychain without D-Bus.
 */
export function keychainReachable(env = process.env) {
  if (process.platform !== 'linux') return true;
  const bus = env.DBUS_SESSION_BUS_ADDRESS || (env.XDG_RUNTIME_DIR && fs.existsSync(path.join(env.XDG_RUNTIME_DIR, 'bus')) ? `unix:path=${path.join(env.XDG_RUNTIME_DIR, 'bus')}` : '');
  if (!bus) return false;
  const ask = (method) =>
    execFileSync('dbus-send', ['--bus=' + bus, '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', `org.freedesktop.DBus.${method}`], {
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    }).toString();
  try {
    return ask('ListNames').includes(`"${SECRET_SERVICE}"`) || ask('ListActivatableNames').includes(`"${SECRET_SERVICE}"`);
  } catch {
    return false; // no dbus-send, or a bus address that leads nowhere
  }
}

/**
 * Starts a D-Bus session bus of its own and on it an unlocked gnome-keyring holding secrets
 * only, with throwaway XDG dirs: nothing reaches the user's own keyring. Returns the environment
 * to run programs in and a stop() that ends both and removes their files.
 */
export function startPrivateKeychain(env = process.env) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-keyring-'));
  const keychainEnv = { ...env, XDG_DATA_HOME: path.join(root, 'data'), XDG_RUNTIME_DIR: path.join(root, 'run') };
  fs.mkdirSync(keychainEnv.XDG_DATA_HOME, { recursive: true });
  fs.mkdirSync(keychainEnv.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  const pids = [];
  const stop = () => {
    for (const pid of pids.reverse()) {
      try {
        process.kill(pid);
      } catch {
        // already gone (the keyring ends with its bus)
      }
    }
    pids.length = 0;
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    const [address, busPid] = execFileSync('dbus-daemon', ['--session', '--fork', '--nopidfile', '--print-address=1', '--print-pid=1'], {
      env: keychainEnv,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim()
      .split('\n');
    pids.push(Number(busPid));
    keychainEnv.DBUS_SESSION_BUS_ADDRESS = address;
    const started = execFileSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], { env: keychainEnv, input: 'heron-private-keyring' }).toString();
    const keyringPid = /GNOME_KEYRING_PID=(\d+)/.exec(started)?.[1];
    if (keyringPid) pids.push(Number(keyringPid));
  } catch (error) {
    stop();
    if (error.code === 'ENOENT') {
      throw new Error(`cannot start a private keychain: ${error.path} is not installed (Debian/Ubuntu: sudo apt-get install -y dbus gnome-keyring)`);
    }
    throw error;
  }
  return { env: keychainEnv, stop };
}

/**
 * Runs a program to its end with `env`, passing on the signals that would stop us (Ctrl+C
 * reaches both; a SIGTERM sent to us alone reaches it too), so that we outlive it and can
 * clean up. Resolves to the exit status a shell would report.
 */
export function runToEnd(program, args, env) {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: 'inherit' });
    const pass = (signal) => child.kill(signal);
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const signal of signals) process.on(signal, pass);
    const done = (status) => {
      for (const signal of signals) process.off(signal, pass);
      resolve(status);
    };
    child.once('error', (error) => {
      console.error(`${program}: ${error.message}`);
      done(127);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (os.constants.signals[signal] ?? 0)));
  });
}
