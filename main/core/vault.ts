// The credential vault: passwords live in the OS keychain and nowhere else. Only the
// connection that needs a password asks for it; nothing here logs or returns it elsewhere.
export interface Vault {
  setPassword(accountJid: string, password: string): Promise<void>;
  getPassword(accountJid: string): Promise<string | null>;
  deletePassword(accountJid: string): Promise<void>;
}

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
      throw new VaultError(`The system keychain could not ${what}: ${(error as Error).message}`);
    }
  };
  return {
    setPassword: (jid, password) => guard('store the password', async () => (await load()).setPassword(service, jid, password)),
    getPassword: (jid) => guard('read the password', async () => (await load()).getPassword(service, jid)),
    deletePassword: (jid) => guard('delete the password', async () => void (await (await load()).deletePassword(service, jid))),
  };
}
