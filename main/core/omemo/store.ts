// What the OMEMO core keeps between messages, behind an interface the feature module injects:
// one store per version (each has its own bundle and sessions; the identity may be shared).
// The in-memory store serves tests and benchmarks; SQLite comes with the protocol module.
import { parseSession, serializeSession, type SessionState } from './session';

export interface OwnIdentity {
  deviceId: number;
  /** 32-byte Curve25519 private key; both versions derive their public form from it. */
  privateKey: Uint8Array;
}

export interface PreKeyRecord {
  id: number;
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface SignedPreKeyRecord extends PreKeyRecord {
  signature: Uint8Array;
  createdAt: number;
}

export interface OmemoStore {
  identity(): OwnIdentity;
  /** The signed prekey published now; older ones stay findable by id until removed. */
  currentSignedPreKey(): SignedPreKeyRecord;
  signedPreKey(id: number): SignedPreKeyRecord | undefined;
  putSignedPreKey(record: SignedPreKeyRecord, current: boolean): void;
  removeSignedPreKey(id: number): void;
  preKey(id: number): PreKeyRecord | undefined;
  preKeys(): PreKeyRecord[];
  putPreKey(record: PreKeyRecord): void;
  removePreKey(id: number): void;
  /** The highest prekey id ever stored, so a used id is not given out again. */
  highestPreKeyId(): number;
  session(jid: string, deviceId: number): SessionState | undefined;
  putSession(jid: string, deviceId: number, state: SessionState): void;
}

export class MemoryOmemoStore implements OmemoStore {
  private readonly signedPreKeys = new Map<number, SignedPreKeyRecord>();
  private currentSignedPreKeyId: number | undefined;
  private readonly prekeys = new Map<number, PreKeyRecord>();
  private highestPreKey = 0;
  // Kept in their storage form, so every test also proves a session survives a restart.
  private readonly sessions = new Map<string, string>();

  constructor(private readonly own: OwnIdentity) {}

  identity(): OwnIdentity {
    return this.own;
  }
  currentSignedPreKey(): SignedPreKeyRecord {
    const record = this.currentSignedPreKeyId === undefined ? undefined : this.signedPreKeys.get(this.currentSignedPreKeyId);
    if (!record) throw new Error('no signed prekey yet');
    return record;
  }
  signedPreKey(id: number): SignedPreKeyRecord | undefined {
    return this.signedPreKeys.get(id);
  }
  putSignedPreKey(record: SignedPreKeyRecord, current: boolean): void {
    this.signedPreKeys.set(record.id, record);
    if (current) this.currentSignedPreKeyId = record.id;
  }
  removeSignedPreKey(id: number): void {
    if (id !== this.currentSignedPreKeyId) this.signedPreKeys.delete(id);
  }
  preKey(id: number): PreKeyRecord | undefined {
    return this.prekeys.get(id);
  }
  preKeys(): PreKeyRecord[] {
    return [...this.prekeys.values()];
  }
  putPreKey(record: PreKeyRecord): void {
    this.prekeys.set(record.id, record);
    this.highestPreKey = Math.max(this.highestPreKey, record.id);
  }
  highestPreKeyId(): number {
    return this.highestPreKey;
  }
  removePreKey(id: number): void {
    this.prekeys.delete(id);
  }
  session(jid: string, deviceId: number): SessionState | undefined {
    const stored = this.sessions.get(`${deviceId} ${jid}`);
    return stored === undefined ? undefined : parseSession(stored);
  }
  putSession(jid: string, deviceId: number, state: SessionState): void {
    this.sessions.set(`${deviceId} ${jid}`, serializeSession(state));
  }
}
