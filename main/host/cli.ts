// `npm run host`: the core plus the headless host, for development in any browser and for
// end-to-end tests. Prints the URL (with this run's token) to open.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCore, fileLog, keytarVault } from '../core';
import { startHost } from './server';

// Two levels below the package root both as source (main/host) and built (dist/host).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: path.join(os.homedir(), '.config', 'Heron-host') },
    port: { type: 'string', default: '0' },
    'trust-ca': { type: 'string', multiple: true, default: [] },
    'keychain-service': { type: 'string', default: 'Heron' },
  },
});

const dataDir = path.resolve(values['data-dir']);
const log = fileLog(dataDir, (line) => process.stderr.write(line));
fs.mkdirSync(dataDir, { recursive: true });
const core = await createCore({
  dataDir,
  vault: keytarVault(values['keychain-service']),
  trustedCAs: values['trust-ca'].map((file) => fs.readFileSync(file, 'utf8')),
  log,
});
const host = await startHost({
  core,
  rendererDir: path.join(root, 'dist/renderer'),
  bridgeFile: path.join(root, 'dist/host/bridge.js'),
  port: Number(values.port),
  log: (message) => log('warn', message),
});
process.stdout.write(`Heron is running at ${host.url}\nHERON_HOST_URL=${host.url}\n`);

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await host.close();
  await core.close();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
