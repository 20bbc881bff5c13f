// `node scripts/with-keychain.mjs [--private] <program> [args…]`: runs a development command
// (the headless host, the benchmarks) where the keychain works. In a desktop session that is
// the user's own keychain; from a plain shell with none reachable (ssh, a headless machine),
// and always with --private, a private throwaway one that ends with the command.
import { keychainReachable, runToEnd, startPrivateKeychain } from './keychain.mjs';

const args = process.argv.slice(2);
const alwaysPrivate = args[0] === '--private';
if (alwaysPrivate) args.shift();
const [program, ...rest] = args;
if (!program) {
  console.error('usage: node scripts/with-keychain.mjs [--private] <program> [args…]');
  process.exit(2);
}

if (!alwaysPrivate && keychainReachable()) process.exit(await runToEnd(program, rest, process.env));

let keychain;
try {
  keychain = startPrivateKeychain();
} catch (error) {
  console.error(`No system keychain is reachable from this shell, and ${error.message}.`);
  process.exit(1);
}
if (!alwaysPrivate) {
  console.error('No system keychain is reachable from this shell (no D-Bus session with a Secret Service): using a private one for this run. Passwords stored now are forgotten when it ends.');
}
const status = await runToEnd(program, rest, keychain.env);
keychain.stop();
process.exit(status);
