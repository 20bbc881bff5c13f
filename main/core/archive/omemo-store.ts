// OMEMO's keys, sessions and known devices in the archive's database (migration 15). The
// identity private key is stored sealed: the feature seals it with a key from the OS keychain
// and hands the unsealed identity to `SqliteOmemoStore`, which keeps it in memory only.
import type { OmemoVersion } from '../omemo/profile';
import { parseSession, serializeSession, type SessionState } from '../omemo/session';
import type { OmemoStore, OwnIdentity, PreKeyRecord, SignedPreKeyRecord } from '../omemo/store';
import type { Db } from './database';

export type Trust = 'blind' | 'verified' | 'untrusted';

export type KnownDevice = {
  jid: string;
  version: OmemoVersion;
  deviceId: number;
  /** In the contact's current device list. */
  active: boolean;
  /** Ever in the contact's device list (false: only a key an xmpp: link vouched for so far). */
  listed: boolean;
  /** The identity key first seen for it (this version's form), once a bundle or message showed it. */
  identity?: Uint8Array;
  trust: Trust;
  firstSeen: number;
};

type PreKeyRow = { id: number; private_key: Uint8Array; public_key: Uint8Array; signature: Uint8Array | null; created_at: number | null };
type DeviceRow = { jid: string; version: OmemoVersion; device_id: number; active: number; listed: number; identity: Uint8Array | null; trust: Trust; first_seen: number };

const bytes = (value: Uint8Array) => new Uint8Array(value);

/** One account's OMEMO data that is not per version: the sealed identity, devices, the switch. */
export class OmemoArchive {
  constructor(private readonly db: Db) {}

  sealedIdentity(accountId: string): { deviceId: number; sealed: Uint8Array } | undefined {
    const row = this.db.prepare('SELECT device_id, sealed FROM omemo_identity WHERE account_id = ?').get(accountId) as { device_id: number; sealed: Uint8Array } | undefined;
    return row && { deviceId: row.device_id, sealed: bytes(row.sealed) };
  }

  putSealedIdentity(accountId: string, deviceId: number, sealed: Uint8Array): void {
    this.db.prepare('INSERT OR REPLACE INTO omemo_identity (account_id, device_id, sealed) VALUES (?, ?, ?)').run(accountId, deviceId, sealed);
  }

  store(accountId: string, version: OmemoVersion, identity: OwnIdentity): SqliteOmemoStore {
    return new SqliteOmemoStore(this.db, accountId, version, identity);
  }

  devices(accountId: string, jid: string): KnownDevice[] {
    const rows = this.db
      .prepare('SELECT jid, version, device_id, active, listed, identity, trust, first_seen FROM omemo_devices WHERE account_id = ? AND jid = ? ORDER BY version, device_id')
      .all(accountId, jid) as DeviceRow[];
    return rows.map((row) => ({
      jid: row.jid,
      version: row.version,
      deviceId: row.device_id,
      active: row.active === 1,
      listed: row.listed === 1,
      ...(row.identity ? { identity: bytes(row.identity) } : {}),
      trust: row.trust,
      firstSeen: row.first_seen,
    }));
  }

  /**
   * A device list as published now: listed devices active (new ones added), the others kept as
   * inactive. Says whether anything changed, and which device ids the contact has that we never
   * knew in any version, beside devices we did know (the first list ever seen brings none "new").
   */
  setDeviceList(accountId: string, jid: string, version: OmemoVersion, deviceIds: number[], now: number): { changed: boolean; newDevices: number[] } {
    return this.db.transaction(() => {
      const before = this.db.prepare('SELECT version, device_id, active FROM omemo_devices WHERE account_id = ? AND jid = ?').all(accountId, jid) as Array<
        Pick<DeviceRow, 'version' | 'device_id' | 'active'>
      >;
      const wasActive = new Set(before.filter((row) => row.version === version && row.active === 1).map((row) => row.device_id));
      const everKnown = new Set(before.map((row) => row.device_id));
      this.db.prepare('UPDATE omemo_devices SET active = 0 WHERE account_id = ? AND jid = ? AND version = ?').run(accountId, jid, version);
      const upsert = this.db.prepare(
        `INSERT INTO omemo_devices (account_id, jid, version, device_id, active, first_seen) VALUES (?, ?, ?, ?, 1, ?)
         ON CONFLICT (account_id, jid, version, device_id) DO UPDATE SET active = 1, listed = 1`,
      );
      const listed = new Set(deviceIds);
      for (const id of listed) upsert.run(accountId, jid, version, id, now);
      const changed = listed.size !== wasActive.size || [...listed].some((id) => !wasActive.has(id));
      const newDevices = everKnown.size === 0 ? [] : [...listed].filter((id) => !everKnown.has(id));
      return { changed, newDevices };
    })();
  }

  /**
   * Records the identity key first seen for a device (blind trust); a different one later is not
   * stored over it. True when the key was not known before (the device's fingerprint is new).
   */
  noteIdentity(accountId: string, jid: string, version: OmemoVersion, deviceId: number, identity: Uint8Array, now: number): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO omemo_devices (account_id, jid, version, device_id, active, identity, first_seen) VALUES (?, ?, ?, ?, 1, ?, ?)
           ON CONFLICT (account_id, jid, version, device_id) DO UPDATE SET identity = excluded.identity WHERE identity IS NULL`,
        )
        .run(accountId, jid, version, deviceId, identity, now).changes > 0
    );
  }

  /**
   * Records a key vouched for (an xmpp: link) for a device not seen yet: verified, and not in
   * the contact's device list until it appears there. Nothing changes for a device already known.
   */
  pinIdentity(accountId: string, jid: string, version: OmemoVersion, deviceId: number, identity: Uint8Array, now: number): void {
    this.db
      .prepare(
        `INSERT INTO omemo_devices (account_id, jid, version, device_id, active, listed, identity, trust, first_seen) VALUES (?, ?, ?, ?, 0, 0, ?, 'verified', ?)
         ON CONFLICT (account_id, jid, version, device_id) DO NOTHING`,
      )
      .run(accountId, jid, version, deviceId, identity, now);
  }

  /** Sets the trust of a device in every version it is known in; false when it is not known. */
  setTrust(accountId: string, jid: string, deviceId: number, trust: Trust): boolean {
    return this.db.prepare('UPDATE omemo_devices SET trust = ? WHERE account_id = ? AND jid = ? AND device_id = ?').run(trust, accountId, jid, deviceId).changes > 0;
  }

  /**
   * How the message that `ref` (its origin-id or id) names in the chat with `peer` was
   * encrypted, written by either side (`me`: the account's bare JID): null when in clear,
   * undefined when we have no such message. Point lookups on the (sender, id) indexes.
   */
  encryptionOf(accountId: string, peer: string, me: string, ref: string): 'omemo' | 'omemo2' | null | undefined {
    const row = this.db
      .prepare(
        `SELECT m.encryption FROM conversations c JOIN messages m ON m.conversation_id = c.id
         WHERE c.account_id = ? AND c.peer = ? AND m.sender IN (?, ?) AND (m.origin_id = ? OR m.message_id = ?) LIMIT 1`,
      )
      .get(accountId, peer, peer, me, ref, ref) as { encryption: 'omemo' | 'omemo2' | null } | undefined;
    return row?.encryption;
  }

  /** The stanza the outbox sealed under this id, as XML text (see migration 16). */
  sealed(accountId: string, stanzaId: string): string | undefined {
    const row = this.db.prepare('SELECT stanza FROM omemo_sealed WHERE account_id = ? AND stanza_id = ?').get(accountId, stanzaId) as { stanza: string } | undefined;
    return row?.stanza;
  }

  keepSealed(accountId: string, stanzaId: string, stanza: string): void {
    this.db.prepare('INSERT OR REPLACE INTO omemo_sealed (account_id, stanza_id, stanza) VALUES (?, ?, ?)').run(accountId, stanzaId, stanza);
  }

  /** Forgets the sealed stanzas no message or relation in the outbox is waiting to send. */
  forgetSent(accountId: string): number {
    return this.db
      .prepare(
        `DELETE FROM omemo_sealed WHERE account_id = @accountId
           AND NOT EXISTS (SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                           WHERE m.state = 'pending' AND m.message_id = omemo_sealed.stanza_id AND c.account_id = @accountId)
           AND NOT EXISTS (SELECT 1 FROM message_events e JOIN conversations c ON c.id = e.conversation_id
                           WHERE e.pending = 1 AND e.message_id = omemo_sealed.stanza_id AND c.account_id = @accountId)`,
      )
      .run({ accountId }).changes;
  }

  /** What the ciphertext named by `digest` decrypted to, as the feature stored it (see migration 16). */
  opened(accountId: string, digest: Uint8Array): string | undefined {
    const row = this.db.prepare('SELECT opened FROM omemo_opened WHERE account_id = ? AND digest = ?').get(accountId, digest) as { opened: string } | undefined;
    return row?.opened;
  }

  keepOpened(accountId: string, digest: Uint8Array, opened: string, now: number): void {
    this.db.prepare('INSERT OR REPLACE INTO omemo_opened (account_id, digest, opened, opened_at) VALUES (?, ?, ?, ?)').run(accountId, digest, opened, now);
  }

  forgetOpenedBefore(accountId: string, ts: number): void {
    this.db.prepare('DELETE FROM omemo_opened WHERE account_id = ? AND opened_at < ?').run(accountId, ts);
  }

  /** The per-conversation switch: undefined when the user never set it. */
  conversationSetting(accountId: string, peer: string): boolean | undefined {
    const row = this.db.prepare('SELECT omemo FROM conversations WHERE account_id = ? AND peer = ?').get(accountId, peer) as { omemo: number | null } | undefined;
    return row?.omemo === null || row === undefined ? undefined : row.omemo === 1;
  }

  setConversationSetting(conversationId: number, enabled: boolean): void {
    this.db.prepare('UPDATE conversations SET omemo = ? WHERE id = ?').run(enabled ? 1 : 0, conversationId);
  }
}

/** The `OmemoStore` of one account and version over SQLite; sessions in their storage form. */
export class SqliteOmemoStore implements OmemoStore {
  constructor(
    private readonly db: Db,
    private readonly accountId: string,
    private readonly version: OmemoVersion,
    private readonly own: OwnIdentity,
  ) {}

  identity(): OwnIdentity {
    return this.own;
  }

  private preKeyRows(signed: 0 | 1, where = '', ...params: unknown[]): PreKeyRow[] {
    return this.db
      .prepare(`SELECT id, private_key, public_key, signature, created_at FROM omemo_prekeys WHERE account_id = ? AND version = ? AND signed = ? ${where} ORDER BY id`)
      .all(this.accountId, this.version, signed, ...params) as PreKeyRow[];
  }

  private signed(row: PreKeyRow | undefined): SignedPreKeyRecord | undefined {
    return row && { id: row.id, privateKey: bytes(row.private_key), publicKey: bytes(row.public_key), signature: bytes(row.signature!), createdAt: row.created_at ?? 0 };
  }

  currentSignedPreKey(): SignedPreKeyRecord {
    const record = this.signed(this.preKeyRows(1, 'AND current = 1')[0]);
    if (!record) throw new Error('no signed prekey yet');
    return record;
  }

  /** Whether keys were ever made for this version (a signed prekey exists). */
  seeded(): boolean {
    return this.preKeyRows(1).length > 0;
  }

  signedPreKey(id: number): SignedPreKeyRecord | undefined {
    return this.signed(this.preKeyRows(1, 'AND id = ?', id)[0]);
  }

  putSignedPreKey(record: SignedPreKeyRecord, current: boolean): void {
    this.db.transaction(() => {
      if (current) this.db.prepare('UPDATE omemo_prekeys SET current = 0 WHERE account_id = ? AND version = ? AND signed = 1').run(this.accountId, this.version);
      this.db
        .prepare(
          `INSERT OR REPLACE INTO omemo_prekeys (account_id, version, signed, id, private_key, public_key, signature, created_at, current)
           VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)`,
        )
        .run(this.accountId, this.version, record.id, record.privateKey, record.publicKey, record.signature, record.createdAt, current ? 1 : 0);
    })();
  }

  removeSignedPreKey(id: number): void {
    this.db.prepare('DELETE FROM omemo_prekeys WHERE account_id = ? AND version = ? AND signed = 1 AND id = ? AND current = 0').run(this.accountId, this.version, id);
  }

  preKey(id: number): PreKeyRecord | undefined {
    const row = this.preKeyRows(0, 'AND id = ?', id)[0];
    return row && { id: row.id, privateKey: bytes(row.private_key), publicKey: bytes(row.public_key) };
  }

  preKeys(): PreKeyRecord[] {
    return this.preKeyRows(0).map((row) => ({ id: row.id, privateKey: bytes(row.private_key), publicKey: bytes(row.public_key) }));
  }

  putPreKey(record: PreKeyRecord): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO omemo_prekeys (account_id, version, signed, id, private_key, public_key) VALUES (?, ?, 0, ?, ?, ?)')
        .run(this.accountId, this.version, record.id, record.privateKey, record.publicKey);
      this.db
        .prepare(
          `INSERT INTO omemo_counters (account_id, version, highest_prekey) VALUES (?, ?, ?)
           ON CONFLICT (account_id, version) DO UPDATE SET highest_prekey = max(highest_prekey, excluded.highest_prekey)`,
        )
        .run(this.accountId, this.version, record.id);
    })();
  }

  removePreKey(id: number): void {
    this.db.prepare('DELETE FROM omemo_prekeys WHERE account_id = ? AND version = ? AND signed = 0 AND id = ?').run(this.accountId, this.version, id);
  }

  highestPreKeyId(): number {
    const row = this.db.prepare('SELECT highest_prekey FROM omemo_counters WHERE account_id = ? AND version = ?').get(this.accountId, this.version) as
      | { highest_prekey: number }
      | undefined;
    return row?.highest_prekey ?? 0;
  }

  session(jid: string, deviceId: number): SessionState | undefined {
    const row = this.db.prepare('SELECT state FROM omemo_sessions WHERE account_id = ? AND version = ? AND jid = ? AND device_id = ?').get(this.accountId, this.version, jid, deviceId) as
      | { state: string }
      | undefined;
    return row ? parseSession(row.state) : undefined;
  }

  putSession(jid: string, deviceId: number, state: SessionState): void {
    this.db
      .prepare('INSERT OR REPLACE INTO omemo_sessions (account_id, version, jid, device_id, state) VALUES (?, ?, ?, ?, ?)')
      .run(this.accountId, this.version, jid, deviceId, serializeSession(state));
  }
}
