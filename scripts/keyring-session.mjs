// Runs each argument as a shell command, in order, with a real but private keychain (a D-Bus
// session and an unlocked gnome-keyring of its own, throwaway XDG dirs), so tests never touch
// the user's own keyring.
import { runToEnd, startPrivateKeychain } from './keychain.mjs';

const keychain = startPrivateKeychain();
let status = 0;
for (const command of process.argv.slice(2)) {
  status = await runToEnd('sh', ['-c', command], keychain.env);
  if (status !== 0) break;
}
keychain.stop();
process.exit(status);
