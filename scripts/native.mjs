// Makes the native modules (better-sqlite3, keytar) loadable by one runtime:
//   node scripts/native.mjs node       before tests, which load them under Node
//   node scripts/native.mjs electron   before `npm start` and the Electron end-to-end test
// (Packaging needs neither: electron-builder rebuilds them for Electron itself.)
// A compiled module works in one ABI only, so whichever ran last decides what is in
// node_modules. This probes first and rebuilds only when the modules do not load.
//
// Without an Electron binary (ELECTRON_SKIP_BINARY_DOWNLOAD=1) nothing can load them as Electron
// would, so the stamp file below stands in: it records what the last build targeted and the
// hashes of the binaries it produced. The Electron rebuild itself (electron-builder
// install-app-deps) downloads Electron's headers, so it needs the network.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { electronBinary } from './electron-binary.mjs';

const MODULES = ['better-sqlite3', 'keytar'];
// better-sqlite3 opens its binary on first use, not on require.
const PROBE = "new (require('better-sqlite3'))(':memory:').close(); require('keytar');";
const STAMP = 'node_modules/.heron-native.json';
const names = MODULES.join(', ');
const require = createRequire(import.meta.url);

const target = process.argv[2];
if (target !== 'node' && target !== 'electron') {
  console.error('usage: node scripts/native.mjs node|electron');
  process.exit(2);
}
const runtime = target === 'node' ? nodeRuntime() : electronRuntime();
const label = `${runtime.kind} ${runtime.version} (ABI ${runtime.abi})`;

const before = runtime.check();
if (before.ok) {
  writeStamp(runtime);
  done(`${names} ${before.how} ${label}: nothing to do`);
}

const started = Date.now();
// A failed rebuild may already have deleted the old binaries (node-gyp cleans first): put them back.
const saved = binaryFiles().map((file) => ({ file, bytes: readFileSync(file) }));
const rebuild = runtime.rebuild();
if (rebuild.status !== 0) {
  process.stderr.write(tail(rebuild));
  for (const { file, bytes } of saved) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
  fail(`rebuilding ${names} for ${label} failed, the previous build is restored${runtime.hint ? `; ${runtime.hint}` : ''}`);
}
const after = runtime.verify();
if (!after.ok) fail(`rebuilt ${names} for ${label}, but they still do not load: ${after.reason}`);
writeStamp(runtime);
const seconds = Math.round((Date.now() - started) / 1000);
done(`rebuilt ${names} for ${label} in ${seconds} s (before: ${before.reason})`);

function nodeRuntime() {
  const check = () => probe(process.execPath, {});
  return {
    kind: 'node',
    version: process.versions.node,
    abi: process.versions.modules,
    check,
    verify: check,
    rebuild: () => run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['rebuild', ...MODULES]),
  };
}

function electronRuntime() {
  let version;
  try {
    version = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
  } catch {
    fail('electron is not installed: run npm install first');
  }
  const electronDir = path.dirname(require.resolve('electron/package.json'));
  const abiFile = path.join(electronDir, 'abi_version');
  const abi = existsSync(abiFile) ? readFileSync(abiFile, 'utf8').trim() : 'unknown';
  const binary = electronBinary();
  const check = binary
    ? () => probe(binary, { ELECTRON_RUN_AS_NODE: '1' })
    : () =>
        stampMatches('electron', abi)
          ? { ok: true, how: 'were last built (says the stamp; no Electron binary to probe with) for' }
          : { ok: false, reason: 'no stamp says they were built for this Electron, and there is no Electron binary to probe with' };
  const builder = path.join(path.dirname(require.resolve('electron-builder/package.json')), 'cli.js');
  return {
    kind: 'electron',
    version,
    abi,
    check,
    // Without a binary, a successful install-app-deps is all the evidence there is.
    verify: binary ? check : () => ({ ok: true }),
    rebuild: () => run(process.execPath, [builder, 'install-app-deps']),
    hint: binary
      ? undefined
      : 'there is no Electron binary here (ELECTRON_SKIP_BINARY_DOWNLOAD=1?) and install-app-deps needs the network for Electron headers: run this where Electron is installed',
  };
}

/** Loads the modules in a child of `executable`; a failure is normally an ABI mismatch. */
function probe(executable, env) {
  const result = spawnSync(executable, ['-e', PROBE], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (result.status === 0) return { ok: true, how: 'load under' };
  const line = (result.stderr ?? '').split('\n').find((l) => /error/i.test(l)) ?? result.error?.message ?? 'exit ' + result.status;
  return { ok: false, reason: line.trim().slice(0, 300) };
}

function run(command, args) {
  return spawnSync(command, args, { encoding: 'utf8' });
}

/** Every compiled binary of our native modules, relative to the project. */
function binaryFiles() {
  return MODULES.flatMap((name) => {
    const release = path.relative('.', path.join(path.dirname(require.resolve(`${name}/package.json`)), 'build', 'Release'));
    if (!existsSync(release)) return [];
    return readdirSync(release)
      .filter((file) => file.endsWith('.node'))
      .sort()
      .map((file) => path.join(release, file));
  });
}

/** SHA-256 of each binary, by path. */
function binaries() {
  return Object.fromEntries(binaryFiles().map((file) => [file, createHash('sha256').update(readFileSync(file)).digest('hex')]));
}

function writeStamp({ kind, version, abi }) {
  writeFileSync(STAMP, JSON.stringify({ runtime: kind, version, abi, binaries: binaries() }, null, 2) + '\n');
}

/** True when the stamp names this runtime and ABI and the binaries are the ones it recorded. */
function stampMatches(kind, abi) {
  if (!existsSync(STAMP)) return false;
  const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  return stamp.runtime === kind && stamp.abi === abi && JSON.stringify(stamp.binaries) === JSON.stringify(binaries());
}

function tail(result) {
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-30).join('\n') + '\n';
}

function done(message) {
  console.log(`native: ${message}`);
  process.exit(0);
}

function fail(message) {
  console.error(`native: ${message}`);
  process.exit(1);
}
