// OMEMO (XEP-0384), both versions, over the crypto core (../omemo): our identity made once per
// account and sealed by a key in the OS keychain; our device list and bundles on PEP; the
// contacts' device lists (pushed through +notify) and bundles (fetched when a session is
// needed); sealing what chat sends and reading what chat and the catch-up receive, so that
// the decrypted message is stored by chat like any other. Trust is blind until verified: the
// identity key first seen for a device is kept, and a device that shows another is refused.
import { createHash, randomUUID } from 'node:crypto';
import type { Element } from '@xmpp/xml';
import { z } from 'zod';
import parseXml from '@xmpp/xml/lib/parse.js';
import type { OmemoDeviceView } from '../../../preload/contract';
import { CommandFailure } from '../api';
import type { SqliteOmemoStore, Trust } from '../archive/omemo-store';
import { generateIdentity, ownBundle, replenishPreKeys, rotateSignedPreKey, sameBundle, seedKeys } from '../omemo/keys';
import { decryptMessage, encryptMessage, startSession, type Recipient } from '../omemo/message';
import { NS_CLIENT, buildEnvelope, parseEnvelope } from '../omemo/payload';
import { aesGcmDecrypt, aesGcmEncrypt, concat, equalBytes, random } from '../omemo/primitives';
import { profileOf, type OmemoVersion } from '../omemo/profile';
import { OmemoSessionError } from '../omemo/session';
import { NODE_DEVICES, buildBundle, buildDeviceList, buildEncrypted, bundleNode, parseBundle, parseDeviceList, type EncryptedElement } from '../omemo/xml';
import type { OwnIdentity } from '../omemo/store';
import type { Decrypted } from '../xmpp/chat';
import { ask } from '../xmpp/iq';
import {
  CURRENT,
  NOTIFY_FEATURES,
  VERSIONS,
  chooseVersion,
  emptyMessage,
  encryptedStanza,
  findEncrypted,
  itemPayload,
  itemsQuery,
  parseDeviceListPush,
  publishItem,
  sealedContent,
} from '../xmpp/omemo';
import { NS_REACTIONS } from '../xmpp/relations';
import type { Session } from '../xmpp/session';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { publishToOwnPep } from './pep';

const encryptionName = (version: OmemoVersion) => (version === 'legacy' ? 'omemo' : 'omemo2');
const fingerprint = (identity: Uint8Array) => Buffer.from(identity).toString('hex');

/** Failures that mean our session with the sending device is missing or out of step: repaired. */
const BROKEN_SESSION: ReadonlySet<OmemoSessionError['reason']> = new Set(['no-session', 'bad-mac', 'too-far-ahead', 'unknown-prekey', 'unknown-signed-prekey']);
/**
 * How long a signed prekey is published before a new one replaces it. The one before stays
 * until the next turn, so a contact who fetched our bundle up to two weeks ago still gets in.
 */
export const SIGNED_PREKEY_LIFETIME_MS = 7 * 24 * 3600_000;

/** A device's session is repaired at most once in this time. */
export const REPAIR_INTERVAL_MS = 60_000;

/**
 * How long what a ciphertext decrypted to is kept, for another copy of it: the catch-up's of
 * a live one comes within minutes, a resend at the sender's next connect. A week is ample.
 */
const KEEP_OPENED_MS = 7 * 24 * 3600_000;

/** Names one ciphertext, whichever copy of the stanza carries it. */
function ciphertextDigest(version: OmemoVersion, sender: string, element: EncryptedElement): Uint8Array {
  const hash = createHash('sha256').update(`${version}\n${sender}\n${element.sid}\n`);
  for (const key of element.keys) hash.update(`${key.jid ?? ''} ${key.rid} ${key.keyExchange}\n`).update(key.data);
  if (element.payload) hash.update(element.payload);
  return hash.digest();
}

const StoredOpened = z.object({
  body: z.string(),
  encryption: z.enum(['omemo', 'omemo2']),
  senderDevice: z.number().int().optional(),
  content: z.array(z.string()).optional(),
});

function storedOpened(text: Decrypted & { kind: 'text' }): string {
  return JSON.stringify({ body: text.body, encryption: text.encryption, senderDevice: text.senderDevice, content: text.content?.map((c) => c.toString()) });
}

function readOpened(stored: string): Decrypted {
  const { content, senderDevice, ...rest } = StoredOpened.parse(JSON.parse(stored));
  return { kind: 'text', ...rest, ...(senderDevice !== undefined ? { senderDevice } : {}), ...(content ? { content: content.map((c) => parseXml(c) as Element) } : {}) };
}

/** Why a reaction is not sent where it would have to be encrypted with OMEMO 0.3. */
export const LEGACY_REACTIONS =
  'reactions cannot be encrypted with OMEMO 0.3, the version this chat uses: it encrypts the text of a message and nothing else, and Heron does not send them in clear';

/** Seals the identity private key: AES-256-GCM, iv ‖ tag ‖ ciphertext. */
export function sealIdentityKey(key: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const iv = random(12);
  const { ciphertext, tag } = aesGcmEncrypt(key, iv, privateKey);
  return concat(iv, tag, ciphertext);
}

export function unsealIdentityKey(key: Uint8Array, sealed: Uint8Array): Uint8Array {
  return aesGcmDecrypt(key, sealed.subarray(0, 12), sealed.subarray(28), sealed.subarray(12, 28));
}

/**
 * Whether a message to a contact is encrypted, and with which version. The user's switch for
 * the conversation wins: off stays off; on with no device known yet still says encrypted (0.3,
 * the version most clients speak), and sending then fails with the reason rather than going
 * out in clear. Untouched, it is on once the contact's device list showed a device (`devices`:
 * every device ever listed): a list that empties later (their server's say-so, or an
 * attacker's) does not quietly turn the chat back to clear; the user may turn it off.
 */
export function encryptionFor(setting: boolean | undefined, devices: ReadonlyMap<OmemoVersion, readonly number[]>): OmemoVersion | undefined {
  if (setting === false) return undefined;
  const version = chooseVersion(devices);
  return setting === true ? (version ?? 'legacy') : version;
}

/** Runs tasks one at a time, in the order given; one that fails does not hold up the next. */
export function inOrder(): <T>(task: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = last.then(task);
    last = run.catch(() => {});
    return run;
  };
}

/** The one version every member's devices have: OMEMO 2 where all have it, else 0.3. */
function commonVersion(members: ReadonlyArray<ReadonlyMap<OmemoVersion, readonly number[]>>, among: readonly OmemoVersion[] = VERSIONS): OmemoVersion {
  return among.find((v) => members.every((devices) => (devices.get(v)?.length ?? 0) > 0)) ?? 'legacy';
}

export class OmemoFeature implements Feature {
  readonly discoFeatures = NOTIFY_FEATURES;
  private stores: Map<OmemoVersion, SqliteOmemoStore> | undefined;
  /** Why our keys could not be loaded (the keychain refused, say); messages say so. */
  private unavailable = 'this device has not loaded its encryption keys yet';
  /** A prekey was used: the versions whose bundle must be topped up and published again. */
  private readonly republish = new Set<OmemoVersion>();
  /** What each room told us at its last disco#info (muc notes it): encryption needs both. */
  private readonly rooms = new Map<string, { nonAnonymous: boolean; membersOnly: boolean }>();
  /** Occupants whose device lists this session has fetched already (`learnDevices`). */
  private readonly learning = new Set<string>();

  constructor(private readonly ctx: FeatureContext) {}

  /** Our device id (undefined until the keys are loaded). */
  get deviceId(): number | undefined {
    return this.stores?.get('legacy')?.identity().deviceId;
  }

  async online(): Promise<void> {
    if (this.stores) return;
    try {
      this.stores = await this.loadKeys();
    } catch (error) {
      // Plain chat works without it; encrypted messages fail or are stored as unreadable, saying why.
      this.unavailable = `this device's encryption keys are not available (${(error as Error).message})`;
      this.ctx.log('warn', `${this.ctx.bare}: OMEMO unavailable: ${(error as Error).message}`);
    }
  }

  async ready(session: Session): Promise<void> {
    this.learning.clear();
    if (!this.stores) return;
    this.ctx.archive.omemo.forgetSent(this.ctx.accountId);
    this.ctx.archive.omemo.forgetOpenedBefore(this.ctx.accountId, this.ctx.clock.now() - KEEP_OPENED_MS);
    this.rotateOldSignedPreKeys();
    // Not awaited: the catch-up and the outbox after us need not wait for four PEP round trips.
    void (async () => {
      for (const version of VERSIONS) await this.publishOwn(session, version);
    })().catch((error: Error) => this.ctx.log('warn', `${this.ctx.bare}: could not publish our OMEMO devices: ${error.message}`));
  }

  stanza(stanza: Element): boolean {
    if (!stanza.is('message')) return false;
    const push = parseDeviceListPush(stanza, this.ctx.bare);
    if (push.kind === 'ignored') return false;
    if (push.kind === 'rejected') {
      this.ctx.log('warn', `${this.ctx.bare}: rejected OMEMO device list: ${push.reason}`);
      return true;
    }
    const ids = push.devices.map((d) => d.id);
    this.noteDeviceList(push.jid, push.version, ids);
    // Another device of ours published a list without this one: put it back.
    const session = this.ctx.liveSession();
    const own = this.deviceId;
    if (push.jid === this.ctx.bare && own !== undefined && !ids.includes(own) && session) void this.publishOwn(session, push.version);
    return true;
  }

  /** Loads the identity (unsealed with the keychain's key) or makes it on first use, and each version's prekeys. */
  private async loadKeys(): Promise<Map<OmemoVersion, SqliteOmemoStore>> {
    const { vault, accountId, bare, archive, clock } = this.ctx;
    if (!vault) throw new Error('no keychain');
    const omemo = archive.omemo;
    const sealed = omemo.sealedIdentity(accountId);
    let keyText = await vault.getSecret('omemo-identity', bare);
    let identity: OwnIdentity;
    if (sealed) {
      if (!keyText) throw new Error('the key that seals the identity is missing from the keychain');
      identity = { deviceId: sealed.deviceId, privateKey: unsealIdentityKey(Buffer.from(keyText, 'base64'), sealed.sealed) };
    } else {
      if (!keyText) {
        keyText = Buffer.from(random(32)).toString('base64');
        await vault.setSecret('omemo-identity', bare, keyText);
      }
      identity = generateIdentity();
      omemo.putSealedIdentity(accountId, identity.deviceId, sealIdentityKey(Buffer.from(keyText, 'base64'), identity.privateKey));
    }
    const stores = new Map(VERSIONS.map((version) => [version, omemo.store(accountId, version, identity)] as const));
    for (const [version, store] of stores) if (!store.seeded()) archive.transaction(() => seedKeys(profileOf(version), store, clock.now()));
    return stores;
  }

  /**
   * A signed prekey published for SIGNED_PREKEY_LIFETIME_MS is replaced (the one before stays,
   * for sessions begun on it still on their way); the bundle then differs and is published.
   */
  private rotateOldSignedPreKeys(): void {
    const now = this.ctx.clock.now();
    for (const [version, store] of this.stores ?? []) {
      if (now - store.currentSignedPreKey().createdAt >= SIGNED_PREKEY_LIFETIME_MS) this.ctx.archive.transaction(() => rotateSignedPreKey(profileOf(version), store, now));
    }
  }

  /** Our device in this version's device list (added when missing), and our bundle, on PEP. */
  private async publishOwn(session: Session, version: OmemoVersion): Promise<void> {
    const store = this.stores?.get(version);
    if (!store) return;
    const own = store.identity().deviceId;
    try {
      // The bundle first: whoever sees the device in the list fetches its bundle at once. Only
      // when the server's copy differs: a login that publishes it again for nothing takes ~25 s
      // through ejabberd's default shaper (3 kB/s from us), holding up everything behind it.
      if (!(await this.bundlePublished(session, version))) await this.publishBundle(session, version);
      const listed = await this.fetchDevices(session, this.ctx.bare, version);
      if (!listed.includes(own)) {
        const list = buildDeviceList(version, [...listed, own].map((id) => ({ id })));
        await publishToOwnPep(session, this.ctx.bare, publishItem(NODE_DEVICES[version], CURRENT, list, '1'));
      }
    } catch (error) {
      this.ctx.log('warn', `${this.ctx.bare}: publishing OMEMO ${version} failed: ${(error as Error).message}`);
    }
  }

  /** Whether our server holds our bundle as we would publish it now. */
  private async bundlePublished(session: Session, version: OmemoVersion): Promise<boolean> {
    const store = this.stores!.get(version)!;
    const own = store.identity().deviceId;
    const itemId = version === 'legacy' ? undefined : String(own);
    try {
      const payload = itemPayload(await ask(session.iqCaller, 'get', this.ctx.bare, itemsQuery(bundleNode(version, own), itemId), { ownJids: [this.ctx.bare] }), itemId);
      return payload !== undefined && sameBundle(parseBundle(version, payload), ownBundle(profileOf(version), store));
    } catch {
      return false; // none yet, or one we cannot read: publish ours
    }
  }

  private async publishBundle(session: Session, version: OmemoVersion): Promise<void> {
    const store = this.stores!.get(version)!;
    const own = store.identity().deviceId;
    const bundle = buildBundle(version, ownBundle(profileOf(version), store));
    const publish = version === 'legacy' ? publishItem(bundleNode(version, own), CURRENT, bundle, '1') : publishItem(bundleNode(version, own), String(own), bundle, 'max');
    await publishToOwnPep(session, this.ctx.bare, publish);
  }

  /** A device list from PEP (also noted in the archive); an empty node is no devices. */
  private async fetchDevices(session: Session, jid: string, version: OmemoVersion): Promise<number[]> {
    let ids: number[] = [];
    try {
      const answer = await ask(session.iqCaller, 'get', jid, itemsQuery(NODE_DEVICES[version]), { ownJids: [this.ctx.bare] });
      const payload = itemPayload(answer);
      ids = payload ? parseDeviceList(version, payload).map((d) => d.id) : [];
    } catch (error) {
      if ((error as { condition?: string }).condition !== 'item-not-found') throw error;
    }
    this.noteDeviceList(jid, version, ids);
    return ids;
  }

  /** Stores a device list and tells the window when it changed (a new device is worth a notice). */
  private noteDeviceList(jid: string, version: OmemoVersion, ids: number[]): void {
    const { changed, newDevices } = this.ctx.archive.omemo.setDeviceList(this.ctx.accountId, jid, version, ids, this.ctx.clock.now());
    if (changed) this.ctx.emit('omemo.devicesChanged', { accountId: this.ctx.accountId, jid, newDevices });
  }

  /** A contact's devices by version: those we may write to, or (`everKnown`) all their lists ever showed. */
  private activeDevices(jid: string, everKnown = false): Map<OmemoVersion, number[]> {
    const devices = new Map<OmemoVersion, number[]>();
    for (const device of this.ctx.archive.omemo.devices(this.ctx.accountId, jid)) {
      if ((everKnown && device.listed) || (device.active && device.trust !== 'untrusted')) devices.set(device.version, [...(devices.get(device.version) ?? []), device.deviceId]);
    }
    return devices;
  }

  /**
   * `members`: a room's occupants by real JID, who all get the message in one version, and
   * `absent`: its members not in it now, who get it where they have a device. Rooms are
   * encrypted only when the user turned it on.
   */
  modeFor(peer: string, members?: readonly string[], absent: readonly string[] = []): 'omemo' | 'omemo2' | undefined {
    const setting = this.ctx.archive.omemo.conversationSetting(this.ctx.accountId, peer);
    if (members) return setting === true ? encryptionName(commonVersion(this.roomAudience(members, absent).map((jid) => this.activeDevices(jid)))) : undefined;
    // A chat with my own account has nobody else to encrypt to, unless the user asks for it.
    if (setting === false || (setting === undefined && peer === this.ctx.bare)) return undefined;
    // The version their devices we may write to have; once on, a contact whose devices were all
    // removed or distrusted does not silently get messages in clear: sending fails and says why.
    const version = chooseVersion(this.activeDevices(peer)) ?? encryptionFor(setting, this.activeDevices(peer, true));
    return version && encryptionName(version);
  }

  /** Who a room message is encrypted for: the occupants, and the absent members we know a device of. */
  private roomAudience(members: readonly string[], absent: readonly string[]): string[] {
    return [...members, ...absent.filter((jid) => chooseVersion(this.activeDevices(jid)))].filter((jid) => jid !== this.ctx.bare);
  }

  /**
   * Encrypts a message to every trusted device of `members` (the contact of a chat; a room's
   * occupants by real JID), of a room's `absent` members where we know one, and to my other
   * devices. A room message goes in one version: OMEMO 2 when every member has it, else 0.3;
   * an occupant without any device it can reach fails it (they would see nothing).
   */
  seal(peer: string, plain: Element, members: readonly string[] = [peer], stored?: 'omemo' | 'omemo2', absent: readonly string[] = []): Promise<Element> {
    // One at a time, in the order asked (bundles may have to be fetched first): a message and
    // the correction that names it leave in the order they were sent.
    return this.inOrder(() => this.sealNow(peer, plain, members, stored, absent));
  }
  private readonly inOrder = inOrder();

  /** Runs `task` once everything asked to be sealed before it is: what goes in clear does not overtake it. */
  afterSealing(task: () => void): Promise<void> {
    return this.inOrder(async () => task());
  }

  private async sealNow(peer: string, plain: Element, members: readonly string[], stored: 'omemo' | 'omemo2' | undefined, absent: readonly string[]): Promise<Element> {
    const session = this.ctx.liveSession();
    if (!this.stores) throw new Error(this.unavailable);
    // Sent before and cut off: the same sealed stanza again (migration 16 says why).
    const id = plain.attrs.id as string | undefined;
    const kept = id === undefined ? undefined : this.ctx.archive.omemo.sealed(this.ctx.accountId, id);
    if (kept !== undefined) return parseXml(kept) as Element;
    if (!session) throw new Error('not connected');
    const others = members.filter((jid) => jid !== this.ctx.bare);
    if (others.length === 0 && this.roomAudience([], absent).length === 0) throw new Error('nobody else is in the room to read it');
    const devicesOf = new Map<string, Map<OmemoVersion, number[]>>();
    for (const jid of others) {
      let devices = this.activeDevices(jid);
      if (!chooseVersion(devices)) {
        for (const version of VERSIONS) await this.fetchDevices(session, jid, version).catch(() => []);
        devices = this.activeDevices(jid);
      }
      if (!chooseVersion(devices)) throw new Error(`${jid} has no device that can receive encrypted messages`);
      devicesOf.set(jid, devices);
    }
    for (const jid of this.roomAudience([], absent)) if (!devicesOf.has(jid)) devicesOf.set(jid, this.activeDevices(jid));
    const storedVersion: OmemoVersion | undefined = stored && (stored === 'omemo' ? 'legacy' : 'omemo2');
    // The version the message was stored with, when everyone has it: what it says is what went out.
    const version = storedVersion && commonVersion([...devicesOf.values()], [storedVersion]) === storedVersion ? storedVersion : commonVersion([...devicesOf.values()]);
    // XEP-0384 0.3 encrypts a body only: what else a stanza carries would go out readable.
    if (version === 'legacy' && plain.getChild('reactions', NS_REACTIONS)) throw new Error(LEGACY_REACTIONS);
    const store = this.stores.get(version)!;
    const profile = profileOf(version);
    const own = store.identity().deviceId;
    const recipients: Recipient[] = [
      ...[...devicesOf].flatMap(([jid, devices]) => (devices.get(version) ?? []).map((deviceId) => ({ jid, deviceId }))),
      ...(this.activeDevices(this.ctx.bare).get(version) ?? []).filter((id) => id !== own).map((deviceId) => ({ jid: this.ctx.bare, deviceId })),
    ];
    const problems: string[] = [];
    for (const recipient of recipients) {
      if (store.session(recipient.jid, recipient.deviceId)) continue;
      try {
        await this.buildSession(session, version, recipient);
      } catch (error) {
        problems.push(`device ${recipient.deviceId}: ${(error as Error).message}`);
      }
    }
    const content =
      version === 'legacy' ? new TextEncoder().encode(plain.getChildText('body') ?? '') : buildEnvelope({ content: sealedContent(plain, version), from: this.ctx.bare, to: peer });
    // The sessions move on and the stanza is kept in one step: what is resent is what they expect.
    return this.ctx.archive.transaction(() => {
      const result = encryptMessage(profile, store, recipients, content);
      const reached = new Set(recipients.filter((r) => !result.skipped.some((s) => s.recipient === r)).map((r) => r.jid));
      const missed = others.find((jid) => !reached.has(jid));
      if (missed) throw new Error(`no session could be made with any device of ${missed}${problems.length ? ` (${problems.join('; ')})` : ''}`);
      const sealed = encryptedStanza(plain, version, buildEncrypted(version, result.element));
      if (id !== undefined) this.ctx.archive.omemo.keepSealed(this.ctx.accountId, id, sealed.toString());
      return sealed;
    });
  }

  private async buildSession(session: Session, version: OmemoVersion, recipient: Recipient): Promise<void> {
    const node = bundleNode(version, recipient.deviceId);
    const itemId = version === 'legacy' ? undefined : String(recipient.deviceId);
    const answer = await ask(session.iqCaller, 'get', recipient.jid, itemsQuery(node, itemId), { ownJids: [this.ctx.bare] });
    const payload = itemPayload(answer, itemId);
    if (!payload) throw new Error('no bundle published');
    const bundle = parseBundle(version, payload);
    if (!this.acceptIdentity(recipient.jid, version, recipient.deviceId, bundle.identityKey)) throw new Error('its identity key changed; verify it before writing to it');
    startSession(profileOf(version), this.stores!.get(version)!, recipient, bundle);
  }

  /** Blind trust: the first identity key seen for a device is noted; another one later is refused. */
  private acceptIdentity(jid: string, version: OmemoVersion, deviceId: number, identity: Uint8Array): boolean {
    const omemo = this.ctx.archive.omemo;
    const known = omemo.devices(this.ctx.accountId, jid).find((d) => d.version === version && d.deviceId === deviceId);
    if (known?.trust === 'untrusted') return false;
    if (known?.identity) return equalBytes(known.identity, identity);
    if (omemo.noteIdentity(this.ctx.accountId, jid, version, deviceId, identity, this.ctx.clock.now())) {
      // Its fingerprint can be shown now. Told after the current step: a catch-up page that
      // decrypts this message commits it in a transaction still open here.
      queueMicrotask(() => this.ctx.emit('omemo.devicesChanged', { accountId: this.ctx.accountId, jid, newDevices: [] }));
    }
    return true;
  }

  noteRoom(room: string, traits: { nonAnonymous: boolean; membersOnly: boolean }): void {
    this.rooms.set(room, traits);
  }

  /**
   * Fetches the device lists of someone we may write to without being their contact (an
   * occupant of an encryptable room: no +notify pushes come from them), once per session, so
   * that a message to the room is stored with the version it will go out in.
   */
  learnDevices(jid: string): void {
    const session = this.ctx.liveSession();
    if (!session || !this.stores || this.learning.has(jid)) return;
    this.learning.add(jid);
    void (async () => {
      for (const version of VERSIONS) await this.fetchDevices(session, jid, version).catch(() => []);
    })();
  }

  /**
   * Why a room cannot be encrypted, in words; undefined when it can. XEP-0384 §6.3: only where
   * every occupant's real JID is shown (their devices are found by it) and only members may
   * come in (an open room's newcomers could not read what came before them anyway).
   */
  roomRefusal(room: string): string | undefined {
    const traits = this.rooms.get(room);
    if (!traits) return `Encryption can be turned on once Heron has joined ${room} and learnt how it is set up.`;
    if (!traits.nonAnonymous) return `Encryption needs a non-anonymous room, where everyone's address is visible, and ${room} hides them.`;
    if (!traits.membersOnly) return `Encryption needs a members-only room, and anyone may join ${room}.`;
    return undefined;
  }

  /** Reads an encrypted message for chat or the catch-up (see `Decryptor`). */
  readonly decrypt = (message: Element, { sender, peer, direction, groupchat = false }: { sender: string; peer: string; direction: 'in' | 'out'; groupchat?: boolean }): Decrypted | undefined => {
    const found = findEncrypted(message);
    if (!found) return undefined;
    const encryption = encryptionName(found.version);
    const failed = (reason: string, senderDevice?: number): Decrypted => ({
      kind: 'failed',
      body: `This message could not be decrypted: ${reason}.`,
      encryption,
      ...(senderDevice !== undefined ? { senderDevice } : {}),
    });
    if ('malformed' in found) return failed(`it is malformed (${found.malformed})`);
    const store = this.stores?.get(found.version);
    if (!store) return failed(this.unavailable);
    const element = found.encrypted;
    if (element.sid === store.identity().deviceId) return { kind: 'skip', reason: 'our own encrypted message' };
    // An empty message (a heartbeat, or a session's answer) has nothing to show, whoever it was for.
    if (!element.payload && !element.keys.some((key) => key.rid === store.identity().deviceId)) return { kind: 'skip', reason: 'an empty OMEMO message for another device' };
    // The same ciphertext again (a live copy and the archive's, or a resent one): its key is
    // spent, so it reads as it did the first time.
    const digest = ciphertextDigest(found.version, sender, element);
    const opened = this.ctx.archive.omemo.opened(this.ctx.accountId, digest);
    if (opened !== undefined) return readOpened(opened);
    try {
      // The session moves on and what it opened is kept in one step.
      return this.ctx.archive.transaction((): Decrypted => {
        const result = decryptMessage(profileOf(found.version), store, sender, this.ctx.bare, element, {
          acceptIdentity: (identity, deviceId) => this.acceptIdentity(sender, found.version, deviceId, identity),
        });
        if (result.usedPreKeyId !== undefined) this.prekeyUsed(found.version);
        // XEP-0384 §7.3: answer a new session at once, so the sender stops repeating the key
        // exchange, and a long chain, so that it turns.
        if (result.usedPreKeyId !== undefined || result.heartbeatDue) queueMicrotask(() => this.heartbeat(found.version, { jid: sender, deviceId: element.sid }));
        if (!result.content) return { kind: 'skip', reason: 'an empty OMEMO message' };
        let text: Decrypted & { kind: 'text' };
        if (found.version === 'legacy') text = { kind: 'text', body: new TextDecoder().decode(result.content), encryption, senderDevice: element.sid };
        else {
          const { content } = parseEnvelope(result.content, { from: sender, to: direction === 'in' && !groupchat ? this.ctx.bare : peer });
          text = { kind: 'text', body: content.find((c) => c.is('body', NS_CLIENT))?.text() ?? '', content, encryption, senderDevice: element.sid };
        }
        this.ctx.archive.omemo.keepOpened(this.ctx.accountId, digest, storedOpened(text), this.ctx.clock.now());
        return text;
      });
    } catch (error) {
      if (error instanceof OmemoSessionError && error.reason === 'duplicate') return { kind: 'skip', reason: 'already decrypted' };
      if (error instanceof OmemoSessionError && BROKEN_SESSION.has(error.reason)) this.repair(found.version, { jid: sender, deviceId: element.sid });
      if (!element.payload) return { kind: 'skip', reason: `an empty OMEMO message that could not be read: ${(error as Error).message}` };
      return failed((error as Error).message, element.sid);
    }
  };

  /**
   * A device wrote to us in a session we do not have (or no longer can follow): build a new
   * one from its bundle and send it an empty message, whose key exchange replaces the broken
   * session on its side too (XEP-0384 §7.3), so its next messages can be read. What it sent
   * before stays unreadable. Once per device per REPAIR_INTERVAL_MS, and after the current
   * step: a catch-up page full of such messages makes one repair, not a storm.
   */
  private repair(version: OmemoVersion, recipient: Recipient): void {
    const session = this.ctx.liveSession();
    // Only a device its owner lists: a forged message naming any number is not worth a fetch.
    if (!session || !this.stores || !this.activeDevices(recipient.jid).get(version)?.includes(recipient.deviceId)) return;
    const key = `${version} ${recipient.deviceId} ${recipient.jid}`;
    const now = this.ctx.clock.now();
    if (now - (this.repaired.get(key) ?? -Infinity) < REPAIR_INTERVAL_MS) return;
    this.repaired.set(key, now);
    void this.inOrder(async () => {
      await this.buildSession(session, version, recipient);
      this.heartbeat(version, recipient);
    }).catch((error: Error) => this.ctx.log('warn', `${this.ctx.bare}: could not repair the OMEMO session with device ${recipient.deviceId} of ${recipient.jid}: ${error.message}`));
  }
  private readonly repaired = new Map<string, number>();

  /** An empty message to one device: it moves the session on and carries nothing to show. */
  private heartbeat(version: OmemoVersion, recipient: Recipient): void {
    const session = this.ctx.liveSession();
    const store = this.stores?.get(version);
    if (!session || !store) return;
    const { element } = this.ctx.archive.transaction(() => encryptMessage(profileOf(version), store, [recipient]));
    if (element.keys.length === 0) return;
    void session.entity.send(emptyMessage(recipient.jid, randomUUID(), buildEncrypted(version, element))).catch(() => {});
  }

  /** A prekey was used: tops them up and publishes the bundle without it, once the message is stored. */
  private prekeyUsed(version: OmemoVersion): void {
    if (this.republish.size === 0) {
      queueMicrotask(() => {
        const versions = [...this.republish];
        this.republish.clear();
        const session = this.ctx.liveSession();
        for (const v of versions) {
          this.ctx.archive.transaction(() => replenishPreKeys(this.stores!.get(v)!));
          if (session) void this.publishBundle(session, v).catch((error: Error) => this.ctx.log('warn', `republishing the OMEMO bundle failed: ${error.message}`));
        }
      });
    }
    this.republish.add(version);
  }

  /** This device's fingerprint in each version (the identity's form differs between them). */
  ownFingerprints(): Array<{ version: 'omemo' | 'omemo2'; fingerprint: string }> {
    if (!this.stores) return [];
    return [...this.stores].map(([version, store]) => ({ version: encryptionName(version), fingerprint: fingerprint(profileOf(version).identityKeyOf(store.identity().privateKey)) }));
  }

  /**
   * Applies the fingerprints a link vouches for (Conversations' `omemo-sid-<device>=<hex>`, the
   * 0.3 key with or without its 05 prefix; an OMEMO 2 key, or its 0.3 form, matches too).
   * A device whose key Heron saw is verified when it matches and refused when it does not (the
   * key it was given is not the one the link's owner has); one not seen yet is pinned as a 0.3
   * key, checked when it shows up (`acceptIdentity`).
   */
  vouch(jid: string, fingerprints: ReadonlyArray<{ device: number; fingerprint: string }>): { verified: number[]; refused: number[]; pinned: number[] } {
    const omemo = this.ctx.archive.omemo;
    const outcome = { verified: [] as number[], refused: [] as number[], pinned: [] as number[] };
    const bare = (hex: string) => hex.toLowerCase().replace(/^05(?=[0-9a-f]{64}$)/, '');
    this.ctx.archive.transaction(() => {
      for (const { device, fingerprint } of fingerprints) {
        const vouched = bare(fingerprint);
        const seen = omemo.devices(this.ctx.accountId, jid).filter((d) => d.deviceId === device && d.identity);
        if (seen.length === 0) {
          omemo.pinIdentity(this.ctx.accountId, jid, 'legacy', device, Uint8Array.from(Buffer.from(vouched, 'hex')), this.ctx.clock.now());
          outcome.pinned.push(device);
          continue;
        }
        // The link's key in either form: an OMEMO 2 key is Ed25519, its 0.3 form the Curve25519 one.
        const forms = (d: (typeof seen)[number]) => [d.identity!, ...(d.version === 'omemo2' ? [profileOf('omemo2').identityDhKey(d.identity!)] : [])];
        const matches = seen.some((d) => forms(d).some((key) => Buffer.from(key).toString('hex') === vouched));
        omemo.setTrust(this.ctx.accountId, jid, device, matches ? 'verified' : 'untrusted');
        (matches ? outcome.verified : outcome.refused).push(device);
      }
    });
    this.ctx.emit('omemo.devicesChanged', { accountId: this.ctx.accountId, jid, newDevices: [] });
    return outcome;
  }

  /** A contact's devices (all versions), with fingerprints and trust. */
  devices(jid: string): OmemoDeviceView[] {
    return this.ctx.archive.omemo
      .devices(this.ctx.accountId, jid)
      .map((d) => ({
        version: encryptionName(d.version),
        deviceId: d.deviceId,
        active: d.active,
        trust: d.trust,
        ...(d.identity ? { fingerprint: fingerprint(d.identity) } : {}),
      }));
  }
}

export const omemoModule: FeatureModule<OmemoFeature> = {
  name: 'omemo',
  create: (ctx) => new OmemoFeature(ctx),
  commands: {
    'omemo.setEnabled': ({ conversationId, enabled }, { archive, findAccount }) => {
      const conversation = archive.conversations.get(conversationId);
      if (conversation.kind === 'groupchat' && enabled) {
        const account = findAccount(conversation.accountId);
        if (!account) throw new CommandFailure('not-found', 'The account of this room was removed.');
        const refusal = account.feature(omemoModule).roomRefusal(conversation.peer);
        if (refusal) throw new CommandFailure('refused', refusal, 'conversationId');
      } else if (conversation.kind !== 'chat' && conversation.kind !== 'groupchat') {
        throw new CommandFailure('invalid-payload', 'Encryption is for one-to-one chats and group chats, not private messages in a room.', 'conversationId');
      }
      archive.omemo.setConversationSetting(conversationId, enabled);
      return { conversationId, enabled };
    },
    'omemo.devices': ({ conversationId }, scope) => {
      const conversation = scope.archive.conversations.get(conversationId);
      const account = scope.account(conversation.accountId);
      const omemo = account.feature(omemoModule);
      return {
        conversationId,
        encryption: omemo.modeFor(conversation.peer) ?? null,
        devices: omemo.devices(conversation.peer),
        own: omemo.devices(account.view().jid),
        ownFingerprints: omemo.ownFingerprints(),
        ...(omemo.deviceId !== undefined ? { deviceId: omemo.deviceId } : {}),
      };
    },
    'omemo.vouch': ({ accountId, jid, fingerprints }, { account }) => ({ accountId, jid, ...account(accountId).feature(omemoModule).vouch(jid, fingerprints) }),
    'omemo.setTrust': ({ accountId, jid, deviceId, trust }, { archive, account, emit }) => {
      account(accountId);
      if (!archive.omemo.setTrust(accountId, jid, deviceId, trust as Trust)) throw new CommandFailure('not-found', `No device ${deviceId} of ${jid} is known.`);
      emit('omemo.devicesChanged', { accountId, jid, newDevices: [] });
      return { accountId, jid, deviceId, trust };
    },
  },
  events: ['omemo.devicesChanged'],
};
