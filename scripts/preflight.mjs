// Checks the system programs the tests need and names the Debian packages that provide
// any that are missing, in one message.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const needs = [
  ['prosody', 'prosody'],
  ['prosodyctl', 'prosody'],
  ['/usr/sbin/ejabberdctl', 'ejabberd'],
  ['erl', 'ejabberd'],
  ['openssl', 'openssl'],
  ['dbus-daemon', 'dbus'],
  ['gnome-keyring-daemon', 'gnome-keyring'],
  [process.env.HERON_CHROMIUM ?? '/usr/bin/chromium', 'chromium'],
];

const has = (cmd) => {
  if (cmd.startsWith('/')) return fs.existsSync(cmd);
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const missing = [...new Set(needs.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];
if (!fs.existsSync('/usr/include/libsecret-1/libsecret/secret.h') && !fs.existsSync('node_modules/keytar/build/Release/keytar.node')) {
  missing.push('libsecret-1-dev');
}
// The OMEMO interop peers: Debian's python-omemo with both backends (test/support/omemo-peer.py).
const pythonModules = [
  ['omemo', 'python3-omemo'],
  ['oldmemo', 'python3-oldmemo'],
  ['twomemo', 'python3-twomemo'],
  ['xeddsa', 'python3-xeddsa'],
  ['xmlschema', 'python3-xmlschema'],
];
for (const [module, pkg] of pythonModules) {
  try {
    execFileSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' });
  } catch {
    missing.push(pkg);
  }
}
if (missing.length) {
  console.error(`Missing system packages for the tests: ${missing.join(' ')}\nInstall them with: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
