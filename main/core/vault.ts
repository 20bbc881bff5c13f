// The credential vault: passwords live in the OS keychain and nowhere else. Only the
// connection that needs a password asks for it; nothing here logs or returns it elsewhere.
export interface Vault {
  setPassword(accountJid: string, password: string): Promise<void>;
  getPassword(accountJid: string): Promise<string | null>;
  deletePassword(accountJid: string): Promise<void>;
  /** Other secrets of an account, by kind, beside its password. */
  setSecret(kind: SecretKind, accountJid: string, value: string): Promise<void>;
  getSecret(kind: SecretKind, accountJid: string): Promise<string | null>;
  deleteSecret(kind: SecretKind, accountJid: string): Promise<void>;
}

/** `omemo-identity`: the key that seals the account's OMEMO identity key in the archive. */
export type SecretKind = 'omemo-identity';

export class VaultError extends Error {
  override name = 'VaultError';
}

type Keytar = typeof import('keytar');

/** The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Vault on Windows). */
export function keytarVault(service = 'Heron'): Vault {
  // Loaded lazily so that a missing keychain is a clear error on use, not a crash at start.
  let keytar: Promise<Keytar> | undefined;
  const load = (): Promise<Keytar> => {
    keytar ??= import('keytar').then((mod) => ((mod as { default?: Keytar }).default ?? mod) as Keytar);
    return keytar;
  };
  const guard = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new VaultError(explainKeychainFailure(what, (error as Error).message));
    }
  };
  return {
    setPassword: (jid, password) => guard('store the password', async () => (await load()).setPassword(service, jid, password)),
    getPassword: (jid) => guard('read the password', async () => (await load()).getPassword(service, jid)),
    deletePassword: (jid) => guard('delete the password', async () => void (await (await load()).deletePassword(service, jid))),
    // Entries of their own, named kind:jid, so that no secret can be taken for a password.
    setSecret: (kind, jid, value) => guard('store the encryption key', async () => (await load()).setPassword(service, `${kind}:${jid}`, value)),
    getSecret: (kind, jid) => guard('read the encryption key', async () => (await load()).getPassword(service, `${kind}:${jid}`)),
    deleteSecret: (kind, jid) => guard('delete the encryption key', async () => void (await (await load()).deletePassword(service, `${kind}:${jid}`))),
  };
}

// libsecret and D-Bus report a missing keychain in their own terms ("Cannot autolaunch D-Bus
// without X11 $DISPLAY"); a user needs to know what to install or start instead.
const NO_KEYCHAIN = /autolaunch D-Bus|Could not connect|DBUS_SESSION_BUS_ADDRESS|ServiceUnknown|was not provided by any \.service files|org\.freedesktop\.DBus\.Error\.(NoServer|Spawn)/;
const LOCKED = /locked|collection\/login|Object does not exist at path|prompt|dismissed/i;
const NO_LIBRARY = /libsecret|cannot open shared object/;

/** What went wrong with the keychain while trying to `what` ("store the password"), in words that say what to do. */
export function explainKeychainFailure(what: string, message: string): string {
  if (NO_LIBRARY.test(message)) {
    return `Heron could not ${what}: the keychain library (libsecret) could not be loaded. Install libsecret-1-0, then start Heron again.`;
  }
  if (NO_KEYCHAIN.test(message)) {
    return (
      `Heron could not ${what}: no system keychain is reachable. Heron keeps passwords in the desktop's keychain (the Secret Service): ` +
      'install gnome-keyring or KWallet and log in to a desktop session that starts it, then try again.'
    );
  }
  if (LOCKED.test(message)) {
    return `Heron could not ${what}: the system keychain is locked or has no default keyring. Unlock it or create one (for example in "Passwords and Keys"), then try again.`;
  }
  return `The system keychain could not ${what}: ${message}`;
}
