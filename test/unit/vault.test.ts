import { describe, expect, it } from 'vitest';
import { explainKeychainFailure, VaultError } from '../../main/core/vault';
import { classifyFailure } from '../../main/core/accounts/failures';

// The messages libsecret gives on Linux, as seen on Debian 13.
const UNREACHABLE = [
  'Cannot autolaunch D-Bus without X11 $DISPLAY', // no session bus at all (a plain ssh shell)
  'Could not connect: No such file or directory', // a bus address that leads nowhere
  'The name org.freedesktop.secrets was not provided by any .service files', // no keyring installed
];
const LOCKED = [
  'Object does not exist at path “/org/freedesktop/secrets/collection/login”', // no login keyring, no prompt possible
  'Cannot create an item in a locked collection',
];

describe('a keychain that fails is explained in words', () => {
  it.each(UNREACHABLE)('no keychain reachable (%s): says what to install and start, not the D-Bus text', (raw) => {
    const text = explainKeychainFailure('store the password', raw);
    expect(text).toBe(
      "Heron could not store the password: no system keychain is reachable. Heron keeps passwords in the desktop's keychain (the Secret Service): " +
        'install gnome-keyring or KWallet and log in to a desktop session that starts it, then try again.',
    );
  });

  it.each(LOCKED)('a locked keychain (%s): says to unlock it', (raw) => {
    expect(explainKeychainFailure('read the password', raw)).toMatch(/^Heron could not read the password: the system keychain is locked or has no default keyring\. Unlock it/);
  });

  it('a missing libsecret: says which package', () => {
    expect(explainKeychainFailure('store the password', 'libsecret-1.so.0: cannot open shared object file: No such file or directory')).toMatch(
      /the keychain library \(libsecret\) could not be loaded\. Install libsecret-1-0/,
    );
  });

  it('anything else keeps what the keychain said', () => {
    expect(explainKeychainFailure('delete the password', 'Access denied')).toBe('The system keychain could not delete the password: Access denied');
  });

  it('an account whose password cannot be read shows that reason and tries again later', () => {
    const error = new VaultError(explainKeychainFailure('read the password', UNREACHABLE[0]!));
    expect(classifyFailure(error)).toEqual({ state: 'error', reason: error.message, retry: true });
  });
});
