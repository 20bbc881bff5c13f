// `npm run demo-server`: a local Prosody with two demo accounts, to try Heron without an
// account of your own. Uses the same throwaway-server harness as the tests.
import fs from 'node:fs';
import path from 'node:path';
import { startProsody } from '../test/support/prosody';

const server = await startProsody({ domains: ['heron.localhost'] });
const accounts = [
  [await server.register('alice', 'alice-demo'), 'alice-demo'],
  [await server.register('bob', 'bob-demo'), 'bob-demo'],
];
const caFile = path.join(server.dir, 'ca.crt');
fs.chmodSync(caFile, 0o644);
console.log(`Prosody is running on ${server.host}:${server.port} (STARTTLS) with a throwaway CA.

Accounts (use host ${server.host} and port ${server.port} under "Advanced"):
${accounts.map(([jid, pw]) => `  ${jid}  password: ${pw}`).join('\n')}

Start Heron's headless host trusting this server's CA, in another terminal:
  npm run host -- --trust-ca ${caFile} --data-dir /tmp/heron-demo-alice

Press Ctrl+C to stop the server.`);

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
