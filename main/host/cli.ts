// `npm run host`: the core plus the headless host, for development in any browser and for
// end-to-end tests. Prints the URL (with this run's token) to open.
// `--open-uri xmpp:…` hands a link to the host already running on that data folder, as a second
// Electron instance does, and exits; with none running, this host starts and files the link.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCore, fileLog, keytarVault } from '../core';
import { controlHost, startHost } from './server';
import { notificationLog } from './notification-log';
import { loopStalls } from './loop-stalls';

// Two levels below the package root both as source (main/host) and built (dist/host).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: path.join(os.homedir(), '.config', 'Heron-host') },
    port: { type: 'string', default: '0' },
    'trust-ca': { type: 'string', multiple: true, default: [] },
    'keychain-service': { type: 'string', default: 'Heron' },
    'open-uri': { type: 'string' },
  },
});

const dataDir = path.resolve(values['data-dir']);
// Where the running host says how to reach it; readable by this user only, as the token is in it.
const runningFile = path.join(dataDir, 'host.json');
const openUri = values['open-uri'];

if (openUri !== undefined && (await handOver(openUri))) process.exit(0);

/** Hands the link to the host running on this data folder; false when none answers. */
async function handOver(uri: string): Promise<boolean> {
  let running: { port: number; token: string };
  try {
    running = JSON.parse(fs.readFileSync(runningFile, 'utf8')) as typeof running;
  } catch {
    return false;
  }
  try {
    await controlHost(running.port, running.token, { openUri: uri });
  } catch (error) {
    // A file left by a host that died: nobody listens, so this one starts instead.
    if ((error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return false;
    throw error;
  }
  process.stdout.write('Handed the link to the running Heron host.\n');
  return true;
}

const log = fileLog(dataDir, (line) => process.stderr.write(line));
fs.mkdirSync(dataDir, { recursive: true });
const notifications = notificationLog();
const core = await createCore({
  dataDir,
  vault: keytarVault(values['keychain-service']),
  trustedCAs: values['trust-ca'].map((file) => fs.readFileSync(file, 'utf8')),
  log,
  notifications: { sink: notifications },
});
const host = await startHost({
  core,
  rendererDir: path.join(root, 'dist/renderer'),
  bridgeFile: path.join(root, 'dist/host/bridge.js'),
  port: Number(values.port),
  log: (message) => log('warn', message),
  control: {
    openUri: (text) => core.openUri(text),
    clickNotification: (conversationId) => core.showConversation(conversationId),
    notifications: () => notifications.record(),
    eventLoop: loopStalls(),
  },
});
fs.writeFileSync(runningFile, JSON.stringify({ port: host.port, token: host.token }), { mode: 0o600 });
if (openUri !== undefined) core.openUri(openUri);
process.stdout.write(`Heron is running at ${host.url}\nHERON_HOST_URL=${host.url}\n`);

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  fs.rmSync(runningFile, { force: true });
  await host.close();
  await core.close();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
