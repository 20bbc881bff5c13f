// OMEMO in the window: per open 1:1 chat, whether messages are encrypted and the devices of
// both sides with their fingerprints and trust (`omemo.devices`), asked again whenever the
// core says someone's devices changed (`omemo.devicesChanged`). Devices that appeared beside
// known ones since the window opened are kept as "new" until the user has looked at them.
import type { CommandResults, ConversationView, HeronApi } from '../../../preload/contract';

export type EncryptionView = CommandResults['omemo.devices'];
export type Trust = 'verified' | 'untrusted' | 'blind';

const key = (accountId: string, jid: string) => `${accountId} ${jid}`;

export class EncryptionStore {
  /** By conversation id, for the chats the window has asked about. */
  views: ReadonlyMap<number, EncryptionView> = $state.raw(new Map());
  /** New device ids by `accountId jid`. */
  newDevices: ReadonlyMap<string, ReadonlySet<number>> = $state.raw(new Map());
  readonly #api: HeronApi;
  /** Whose devices each loaded view shows: the contact's, and the account's own JID. */
  readonly #subjects = new Map<number, { accountId: string; peer: string; ownJid: string }>();

  constructor(api: HeronApi) {
    this.#api = api;
  }

  start(): () => void {
    return this.#api.on('omemo.devicesChanged', ({ accountId, jid, newDevices }) => {
      if (newDevices.length > 0) {
        const known = this.newDevices.get(key(accountId, jid)) ?? new Set();
        this.newDevices = new Map(this.newDevices).set(key(accountId, jid), new Set([...known, ...newDevices]));
      }
      for (const [conversationId, subject] of this.#subjects) {
        if (subject.accountId === accountId && (subject.peer === jid || subject.ownJid === jid)) void this.load(conversationId).catch(() => {});
      }
    });
  }

  /** Asks the core for a 1:1 chat's encryption and devices; kept current from then on. */
  async watch(conversation: ConversationView, ownJid: string): Promise<EncryptionView> {
    this.#subjects.set(conversation.id, { accountId: conversation.accountId, peer: conversation.peer, ownJid });
    return this.load(conversation.id);
  }

  /** The chat closed: its view is no longer kept current. */
  unwatch(conversationId: number): void {
    this.#subjects.delete(conversationId);
  }

  async load(conversationId: number): Promise<EncryptionView> {
    const view = await this.#api.invoke('omemo.devices', { conversationId });
    this.views = new Map(this.views).set(conversationId, view);
    return view;
  }

  /** Turns encryption on or off for a chat; what it says afterwards comes from the core. */
  async setEnabled(conversationId: number, enabled: boolean): Promise<EncryptionView> {
    await this.#api.invoke('omemo.setEnabled', { conversationId, enabled });
    return this.load(conversationId);
  }

  async setTrust(conversation: ConversationView, jid: string, deviceId: number, trust: Trust): Promise<void> {
    await this.#api.invoke('omemo.setTrust', { accountId: conversation.accountId, jid, deviceId, trust });
    if (trust !== 'blind') this.dismissNew(conversation.accountId, jid, [deviceId]);
    await this.load(conversation.id);
  }

  newDevicesOf(accountId: string, jid: string): ReadonlySet<number> {
    return this.newDevices.get(key(accountId, jid)) ?? new Set();
  }

  /** The user has seen these new devices (all of them when `ids` is not given). */
  dismissNew(accountId: string, jid: string, ids?: number[]): void {
    const known = this.newDevices.get(key(accountId, jid));
    if (!known) return;
    const left = ids ? [...known].filter((id) => !ids.includes(id)) : [];
    const next = new Map(this.newDevices);
    if (left.length) next.set(key(accountId, jid), new Set(left));
    else next.delete(key(accountId, jid));
    this.newDevices = next;
  }
}
