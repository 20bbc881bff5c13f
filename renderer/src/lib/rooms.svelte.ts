// The rooms the window knows of (XEP-0045), their occupants and each account's bookmarks,
// kept in step with main's `room.changed`, `room.occupants` and `bookmarks.changed`.
// Occupants are held per room in a Map by nick and replaced as a whole on each batch: a
// 5,000-person room costs one new Map per batch, not one reactive update per presence.
import type { BookmarkView, EventPayloads, HeronApi, OccupantView, RoomInviteView, RoomView } from '../../../preload/contract';
import { errorMessage } from './bridge';
import { applyOccupants } from './occupants';

const roomKey = (accountId: string, jid: string) => `${accountId} ${jid}`;
const sameInvite = (a: { accountId: string; room: string }, b: { accountId: string; room: string }) => a.accountId === b.accountId && a.room === b.room;

export class RoomsStore {
  /** By `accountId jid`. */
  rooms: ReadonlyMap<string, RoomView> = $state.raw(new Map());
  /** Occupants by nick, by `accountId jid`; loaded when a room is first shown. */
  occupants: ReadonlyMap<string, ReadonlyMap<string, OccupantView>> = $state.raw(new Map());
  bookmarks: Record<string, BookmarkView[]> = $state.raw({});
  /** Invitations not answered yet, oldest first. */
  invites: RoomInviteView[] = $state.raw([]);
  /** From contacts: the window asks about the first of them at once. */
  readonly contactInvites = $derived(this.invites.filter((i) => !i.stranger));
  /** From people not in the roster: they wait with the message requests. */
  readonly strangerInvites = $derived(this.invites.filter((i) => i.stranger));
  /** A failure loading rooms, for the window to show. */
  error: string | null = $state(null);
  readonly #api: HeronApi;
  /** Batches that came while a room's list was loading, applied on top of it. */
  readonly #pendingOccupants = new Map<string, Array<EventPayloads['room.occupants']>>();

  constructor(api: HeronApi) {
    this.#api = api;
  }

  /** Subscribes, then loads every room. Returns the unsubscribe. */
  start(): () => void {
    const offs = [
      this.#api.on('room.changed', (room) => this.#put(room)),
      this.#api.on('room.occupants', (batch) => {
        const key = roomKey(batch.accountId, batch.room);
        const known = this.occupants.get(key);
        if (known) this.occupants = new Map(this.occupants).set(key, applyOccupants(known, batch));
        // Not loaded: the full list comes with `rooms.occupants` when the room is shown.
        else this.#pendingOccupants.get(key)?.push(batch);
      }),
      this.#api.on('room.invited', (invite) => {
        this.invites = [...this.invites.filter((i) => !sameInvite(i, invite)), invite];
      }),
      this.#api.on('room.inviteGone', (gone) => (this.invites = this.invites.filter((i) => !sameInvite(i, gone)))),
      this.#api.on('bookmarks.changed', ({ accountId, bookmarks }) => (this.bookmarks = { ...this.bookmarks, [accountId]: bookmarks })),
    ];
    this.#api.invoke('rooms.list', {}).then(
      (list) => {
        const next = new Map(this.rooms);
        for (const room of list) if (!next.has(roomKey(room.accountId, room.jid))) next.set(roomKey(room.accountId, room.jid), room);
        this.rooms = next;
      },
      (err: unknown) => (this.error = errorMessage(err)),
    );
    this.#api.invoke('rooms.invites', {}).then(
      (list) => (this.invites = [...list.filter((i) => !this.invites.some((known) => sameInvite(known, i))), ...this.invites]),
      (err: unknown) => (this.error = errorMessage(err)),
    );
    return () => offs.forEach((off) => off());
  }

  #put(room: RoomView): RoomView {
    const key = roomKey(room.accountId, room.jid);
    this.rooms = new Map(this.rooms).set(key, room);
    if (room.state === 'left' && this.occupants.has(key)) {
      const next = new Map(this.occupants);
      next.delete(key);
      this.occupants = next;
    }
    return room;
  }

  room(accountId: string, jid: string): RoomView | undefined {
    return this.rooms.get(roomKey(accountId, jid));
  }

  occupantsOf(accountId: string, jid: string): ReadonlyMap<string, OccupantView> | undefined {
    return this.occupants.get(roomKey(accountId, jid));
  }

  /** Loads a room's full occupant list once; batches keep it current after that. */
  async loadOccupants(accountId: string, jid: string): Promise<void> {
    const key = roomKey(accountId, jid);
    if (this.occupants.has(key) || this.#pendingOccupants.has(key)) return;
    const pending: Array<EventPayloads['room.occupants']> = [];
    this.#pendingOccupants.set(key, pending);
    try {
      const list = await this.#api.invoke('rooms.occupants', { accountId, room: jid });
      const loaded = pending.reduce<Map<string, OccupantView>>((map, batch) => applyOccupants(map, batch), new Map(list.map((o) => [o.nick, o])));
      this.occupants = new Map(this.occupants).set(key, loaded);
    } finally {
      this.#pendingOccupants.delete(key);
    }
  }

  /** What a room is called: its bookmark's name, else the local part of its address. */
  roomName(accountId: string, jid: string): string {
    return this.bookmark(accountId, jid)?.name || jid.split('@')[0] || jid;
  }

  bookmark(accountId: string, jid: string): BookmarkView | undefined {
    return this.bookmarks[accountId]?.find((b) => b.jid === jid);
  }

  async loadBookmarks(accountId: string): Promise<void> {
    if (accountId in this.bookmarks) return;
    const list = await this.#api.invoke('bookmarks.list', { accountId });
    if (!(accountId in this.bookmarks)) this.bookmarks = { ...this.bookmarks, [accountId]: list };
  }

  /** Joins (creating it with the service's defaults if it does not exist). Throws the room's refusal in words. */
  async join(accountId: string, room: string, nick: string, password?: string): Promise<RoomView> {
    return this.#put(await this.#api.invoke('rooms.join', { accountId, room, nick, ...(password ? { password } : {}) }));
  }

  async leave(accountId: string, room: string): Promise<RoomView> {
    return this.#put(await this.#api.invoke('rooms.leave', { accountId, room }));
  }

  async setNick(accountId: string, room: string, nick: string): Promise<RoomView> {
    return this.#put(await this.#api.invoke('rooms.setNick', { accountId, room, nick }));
  }

  /** Invites `jid` to a room we are in. Throws. */
  async invite(accountId: string, room: string, jid: string): Promise<void> {
    await this.#api.invoke('rooms.invite', { accountId, room, jid });
  }

  /** Declines an invitation (the room tells the inviter of a mediated one). Throws. */
  async decline(invite: RoomInviteView): Promise<void> {
    await this.#api.invoke('rooms.declineInvite', { accountId: invite.accountId, room: invite.room });
    this.invites = this.invites.filter((i) => !sameInvite(i, invite));
  }

  /** Bookmarks the room (autojoin as given), or removes its bookmark. */
  async setBookmark(accountId: string, room: RoomView, bookmark: { autojoin: boolean } | null): Promise<void> {
    const list = bookmark
      ? await this.#api.invoke('bookmarks.set', { accountId, jid: room.jid, autojoin: bookmark.autojoin, nick: room.nick })
      : await this.#api.invoke('bookmarks.remove', { accountId, jid: room.jid });
    this.bookmarks = { ...this.bookmarks, [accountId]: list };
  }
}
