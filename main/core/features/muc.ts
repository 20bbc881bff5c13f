// Group chats (XEP-0045): joining and leaving rooms, the occupant list (applied and announced
// in batches: a big room's join is a flood of presences), room messages stored like any other
// (archive first, deduplicated by the room's stanza-id), our own sent through the outbox and
// confirmed by the room's echo, private messages to occupants apart from one-to-one chats,
// history from the room's archive (XEP-0313) from the last id we hold, staying in with
// self-pings (XEP-0410), and the owner's and moderators' commands.
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { DataFormView, MessageView, OccupantView, RoomInviteView, RoomView } from '../../../preload/contract';
import { CommandFailure } from '../api';
import type { MessageEventRecord, MessageRecord, StoreResult } from '../archive/archive';
import type { Session } from '../xmpp/session';
import { NS_CARBONS } from '../xmpp/chat';
import { discoInfoQuery, parseDiscoInfo } from '../xmpp/disco';
import { ask } from '../xmpp/iq';
import { parseJid } from '../xmpp/jid';
import { NS_MAM, isMamResult } from '../xmpp/mam';
import {
  NS_CONFERENCE,
  NS_MUC,
  NS_MUC_USER,
  NS_OCCUPANT_ID,
  adminQuery,
  parseAffiliationList,
  declineInvite,
  destroyQuery,
  directInvite,
  discoItemsQuery,
  errorCondition,
  joinPresence,
  leavePresence,
  moderateQuery,
  nickPresence,
  ownerQuery,
  parseDataForm,
  parseDiscoItems,
  parseInvite,
  parsePrivateMessage,
  parseRoomArchiveResult,
  parseRoomMessage,
  parseRoomPresence,
  privateMessage,
  roomMessage,
  selfPing,
  selfPingVerdict,
  subjectMessage,
  statusCodesOf,
  submitForm,
  type AdminItem,
  type DataForm,
  type Departure,
  type Invite,
  type Occupant,
  type RoomMessageContext,
} from '../xmpp/muc';
import type { CommandScope, Feature, FeatureContext, FeatureModule } from './feature';
import { askServer, sessionFor } from './commands';
import { defaultKeepalive } from './keepalive';
import { ArchiveOrder, placeLive } from './ordering';
import { mamModule, pageForward, type MamCollector, type Page } from './mam';
import { isContact } from './audience';
import { storePending } from './outbox';
import { omemoModule, type OmemoFeature } from './omemo';

const JOIN_TIMEOUT_MS = 30_000;
/** Occupant changes are announced at most this often: one event per batch, not per presence. */
const OCCUPANT_BATCH_MS = 100;
/** A first join shows this much of the room's archived history. */
const FIRST_JOIN_PAGE = 50;
/** XEP-0410 §4: a self-ping after this long without a word from the room. */
const DEFAULT_ROOM_IDLE_MS = 15 * 60_000;
/** After the room's server was out of reach, or the room went down for maintenance: try again this soon. */
const RETRY_MS = 60_000;
/** A room being created by someone else is locked until they configure it: try once more after this. */
const LOCKED_RETRY_MS = 1500;

/** Status codes of a room's notice that its configuration changed (XEP-0045 §10.2.1). */
const CONFIG_CHANGED = new Set(['104', '170', '171', '172', '173', '174']);

type Departed = { nick: string; why: Departure; reason?: string; newNick?: string };

type Room = {
  jid: string;
  nick: string;
  password?: string;
  state: RoomView['state'];
  error?: string;
  subject?: string;
  self?: Occupant;
  occupants: Map<string, Occupant>;
  /** What the room told us it does (disco#info), learnt at each join. */
  mam: boolean;
  occupantIds: boolean;
  /** Real JIDs shown to all (muc_nonanonymous) and members only (muc_membersonly): what OMEMO needs. */
  nonAnonymous: boolean;
  membersOnly: boolean;
  /**
   * Its owners, admins and members by real JID, from the room's lists (where it lets us read
   * them) and the occupants' presence: an encrypted room's message is for the absent ones too.
   */
  affiliated: Set<string>;
  conversationId: number;
  /** Our join created the room (status 201): it stays locked until its owner configures it (§10.1). */
  created?: boolean;
  /** The user is creating the room and fills in its configuration form themselves. */
  configuring?: boolean;
  joining?: { resolve(): void; reject(error: Error): void };
  renaming?: { nick: string; resolve(): void; reject(error: Error): void };
  lastHeard: number;
  timer?: unknown;
  batch: { added: Map<string, Occupant>; changed: Map<string, Occupant>; removed: Map<string, Departed>; timer?: unknown };
};

function occupantView(o: Occupant): OccupantView {
  return { ...o };
}

/** What our own departure means to us, in words. */
function departureWords(why: Departure, reason?: string, alternate?: string): string {
  const because = reason ? ` (“${reason}”)` : '';
  switch (why) {
    case 'kicked':
      return `You were removed from the room${because}.`;
    case 'banned':
      return `You were banned from this room${because}.`;
    case 'affiliation-changed':
      return `You were removed from the room because your membership changed${because}.`;
    case 'members-only':
      return 'The room became members-only and you are not a member.';
    case 'shutdown':
      return 'The room service is shutting down; Heron will rejoin when it is back.';
    case 'destroyed':
      return `This room was closed${because}.${alternate ? ` Its owners suggest ${alternate} instead.` : ''}`;
    default:
      return '';
  }
}

function failure(what: string, text: string): CommandFailure {
  return new CommandFailure('refused', `${what}: ${text}.`);
}

export class MucFeature implements Feature {
  readonly discoFeatures = [NS_MUC, NS_CONFERENCE];
  /** Invitations received and not answered, by room. */
  private readonly invites = new Map<string, Invite & { receivedAt: number }>();
  private loaded: Map<string, Room> | undefined;
  /** Self-pings waiting for their answer, by iq id. */
  private readonly pings = new Map<string, { from: string; settle(error: { name?: string; condition?: string } | undefined): void }>();
  private readonly idleMs: number;
  private readonly pingTimeoutMs: number;
  /** Encrypted room messages are sealed one after another, so the room keeps their order. */
  private sealing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: FeatureContext,
    private readonly collector: Pick<MamCollector, 'page'>,
    /** End-to-end encryption of room messages (XEP-0384 §6.3), as chat has it for one-to-one chats. */
    private readonly omemo?: Pick<OmemoFeature, 'modeFor' | 'seal' | 'decrypt' | 'noteRoom' | 'learnDevices'>,
  ) {
    this.idleMs = ctx.keepalive?.roomIdleMs ?? DEFAULT_ROOM_IDLE_MS;
    this.pingTimeoutMs = ctx.keepalive?.timeoutMs ?? defaultKeepalive.timeoutMs;
  }

  /** The rooms we are in or joining, starting with those we were in last time (rejoined on the next session). */
  private get rooms(): Map<string, Room> {
    this.loaded ??= new Map(this.ctx.archive.rooms.list(this.ctx.accountId).map((r) => [r.jid, this.newRoom(r.jid, r.nick, r.subject)]));
    return this.loaded;
  }

  private newRoom(jid: string, nick: string, subject?: string): Room {
    return {
      jid,
      nick,
      state: 'left',
      ...(subject !== undefined ? { subject } : {}),
      occupants: new Map(),
      mam: false,
      occupantIds: false,
      nonAnonymous: false,
      membersOnly: false,
      affiliated: new Set(),
      conversationId: this.ctx.archive.conversations.openRoom(this.ctx.accountId, jid).id,
      lastHeard: 0,
      batch: { added: new Map(), changed: new Map(), removed: new Map() },
    };
  }

  view(room: Room): RoomView {
    return {
      accountId: this.ctx.accountId,
      jid: room.jid,
      conversationId: room.conversationId,
      nick: room.nick,
      state: room.state,
      ...(room.subject !== undefined ? { subject: room.subject } : {}),
      ...(room.error ? { error: room.error } : {}),
      ...(room.self ? { role: room.self.role, affiliation: room.self.affiliation } : {}),
      occupants: room.occupants.size,
    };
  }

  list(): RoomView[] {
    return [...this.rooms.values()].map((room) => this.view(room));
  }

  private changed(room: Room): void {
    this.ctx.emit('room.changed', this.view(room));
  }

  wire(session: Session): void {
    // A private message goes to an occupant's full JID; the chat feature's ack looks at bare JIDs.
    session.streamManagement.on('ack', (stanza: Element) => {
      const to = parseJid(stanza.attrs.to);
      if (!stanza.is('message') || !stanza.attrs.id || !to?.resource || !this.rooms.has(to.bare)) return;
      const updated = this.ctx.archive.messages.advanceOutgoing(this.ctx.accountId, to.full, stanza.attrs.id, 'sent');
      if (updated) this.ctx.emit('message.updated', updated);
    });
  }

  async ready(session: Session): Promise<void> {
    // A new session: the rooms know us no more. Rejoin the ones we are in (those stored) without
    // holding up the other features; a failure is on the room, for the window to show.
    const wanted = new Set(this.ctx.archive.rooms.list(this.ctx.accountId).map((room) => room.jid));
    for (const room of this.rooms.values()) {
      if (!wanted.has(room.jid)) continue;
      this.disarm(room);
      void this.enter(session, room).catch(() => {});
    }
  }

  suspended(): void {
    for (const room of this.rooms.values()) this.disarm(room);
  }

  /** A resumed stream never left its rooms: nothing to rejoin, only the self-pings to restart. */
  resumed(): void {
    for (const room of this.rooms.values()) if (room.state === 'joined') this.arm(room);
  }

  offline(): void {
    for (const room of this.rooms.values()) {
      this.disarm(room);
      room.joining?.reject(new Error('The connection was lost.'));
      room.renaming?.reject(new Error('The connection was lost.'));
      delete room.joining;
      delete room.renaming;
      if (room.state === 'left') continue;
      room.state = 'left';
      for (const nick of room.occupants.keys()) this.queueRemoved(room, { nick, why: 'left' });
      room.occupants.clear();
      delete room.self;
      this.flush(room);
      this.changed(room);
    }
  }

  // ── joining ─────────────────────────────────────────────────────────────
  /** Joins (or rejoins) a room; resolves once we are in, rejects with the room's refusal in words. */
  async join(room: string, nick: string, password?: string, configuring = false): Promise<RoomView> {
    const session = sessionFor(this.ctx);
    let entry = this.rooms.get(room);
    if (entry) entry.configuring = configuring;
    if (entry && entry.state !== 'left' && entry.nick === nick) {
      if (entry.state === 'joining') await this.waitJoined(entry);
      return this.view(entry);
    }
    if (!entry) this.rooms.set(room, (entry = { ...this.newRoom(room, nick), configuring }));
    entry.nick = nick;
    // Accepting an invitation: the password it brought opens the room.
    password ??= this.invites.get(room)?.password;
    if (password !== undefined) entry.password = password;
    await this.enter(session, entry);
    this.forgetInvite(room);
    return this.view(entry);
  }

  private waitJoined(room: Room): Promise<void> {
    return new Promise((resolve, reject) => {
      const previous = room.joining;
      room.joining = {
        resolve: () => (previous?.resolve(), resolve()),
        reject: (error) => (previous?.reject(error), reject(error)),
      };
    });
  }

  private async enter(session: Session, room: Room): Promise<void> {
    delete room.error;
    room.state = 'joining';
    this.changed(room);
    // A room that does not exist yet has nothing to tell: joining creates it, and we ask again then.
    const info = await this.learn(session, room);
    try {
      try {
        await this.presenceIn(session, room);
      } catch (error) {
        // A room someone (one of my other devices, say) is creating stays locked a moment (§10.1.1).
        if ((error as { condition?: string }).condition !== 'item-not-found') throw error;
        await new Promise((resolve) => this.ctx.clock.setTimeout(() => resolve(undefined), LOCKED_RETRY_MS));
        await this.presenceIn(session, room);
      }
    } catch (error) {
      if (room.state === 'joining') {
        room.state = 'left';
        room.error = (error as Error).message;
        this.changed(room);
      }
      throw failure(`Could not join ${room.jid}`, (error as Error).message);
    }
    if (room.created && !room.configuring) {
      // Joined, not created on purpose: an instant room with the service's defaults (§10.1.2), open to others.
      await this.askRoom(`Could not open the new room ${room.jid}`, session, 'set', room.jid, ownerQuery(submitForm(undefined, {})));
    }
    if (!info || room.created) await this.learn(session, room);
    delete room.created;
    this.ctx.archive.rooms.put(this.ctx.accountId, { jid: room.jid, nick: room.nick, ...(room.subject !== undefined ? { subject: room.subject } : {}) });
    this.flushOutbox(session, room);
    this.arm(room);
    if (room.mam) await this.catchUp(session, room).catch((error: Error) => this.ctx.log('warn', `${room.jid}: room history catch-up failed: ${error.message}`));
  }

  /** What the room does (disco#info): whether it archives (XEP-0313) and vouches for occupant-ids (XEP-0421). */
  private async learn(session: Session, room: Room): Promise<boolean> {
    const features = async (jid: string) =>
      ask(session.iqCaller, 'get', jid, discoInfoQuery(), { ownJids: [], timeoutMs: JOIN_TIMEOUT_MS }).then(
        (query) => {
          const info = parseDiscoInfo(query);
          return info.kind === 'info' ? new Set(info.info.features) : undefined;
        },
        () => undefined,
      );
    const ofRoom = await features(room.jid);
    room.mam = ofRoom?.has(NS_MAM) ?? false;
    // A room not made yet: the service says whether its rooms vouch for occupant-ids.
    room.occupantIds = (ofRoom ?? (await features(parseJid(room.jid)!.domain)))?.has(NS_OCCUPANT_ID) ?? false;
    room.nonAnonymous = ofRoom?.has('muc_nonanonymous') ?? false;
    room.membersOnly = ofRoom?.has('muc_membersonly') ?? false;
    if (ofRoom) this.omemo?.noteRoom(room.jid, { nonAnonymous: room.nonAnonymous, membersOnly: room.membersOnly });
    for (const occupant of room.occupants.values()) this.learnDevicesOf(room, occupant);
    if (this.omemo && room.nonAnonymous && room.membersOnly) void this.learnAffiliated(session, room);
    return ofRoom !== undefined;
  }

  /**
   * Who belongs to an encryptable room, present or not (§9.5, §10.5), and their devices. A list
   * the room will not show us (many show them to admins only) leaves those we see come in.
   */
  private async learnAffiliated(session: Session, room: Room): Promise<void> {
    for (const affiliation of ['owner', 'admin', 'member'] as const) {
      const listed = await ask(session.iqCaller, 'get', room.jid, adminQuery([{ affiliation }]), { ownJids: [], timeoutMs: JOIN_TIMEOUT_MS }).then(parseAffiliationList, () => []);
      for (const jid of listed) room.affiliated.add(jid);
    }
    for (const jid of room.affiliated) if (jid !== this.ctx.bare) this.omemo?.learnDevices(jid);
  }

  /** Sends our join presence; settles on our own presence from the room or its refusal. */
  private async presenceIn(session: Session, room: Room): Promise<void> {
    const joined = this.waitJoined(room);
    joined.catch(() => {}); // awaited below; a refusal may come while the presence is still being written
    const timer = this.ctx.clock.setTimeout(() => room.joining?.reject(new Error('the room did not answer in time')), JOIN_TIMEOUT_MS);
    try {
      // The room's archive gives the history, from where we left off: no replay on top of it.
      await session.entity.send(joinPresence(room.jid, room.nick, { ...(room.password ? { password: room.password } : {}), ...(room.mam ? { maxstanzas: 0 } : {}) }));
      await joined;
    } finally {
      this.ctx.clock.clearTimeout(timer);
      delete room.joining;
    }
  }

  async leave(jid: string): Promise<RoomView> {
    const room = this.known(jid);
    this.ctx.archive.rooms.remove(this.ctx.accountId, jid);
    this.rooms.delete(jid);
    this.disarm(room);
    const session = this.ctx.liveSession();
    if (session && room.state !== 'left') await session.entity.send(leavePresence(jid, room.nick));
    room.state = 'left';
    room.occupants.clear();
    delete room.self;
    this.changed(room);
    return this.view(room);
  }

  async setNick(jid: string, nick: string): Promise<RoomView> {
    const room = this.joined(jid);
    const session = sessionFor(this.ctx);
    const renamed = new Promise<void>((resolve, reject) => (room.renaming = { nick, resolve, reject }));
    const timer = this.ctx.clock.setTimeout(() => room.renaming?.reject(new Error('the room did not answer in time')), JOIN_TIMEOUT_MS);
    await session.entity.send(nickPresence(jid, nick));
    try {
      await renamed;
    } catch (error) {
      throw failure('Could not change your nickname', (error as Error).message);
    } finally {
      this.ctx.clock.clearTimeout(timer);
      delete room.renaming;
    }
    return this.view(room);
  }

  private known(jid: string): Room {
    const room = this.rooms.get(jid);
    if (!room) throw new CommandFailure('not-found', `You are not in the room ${jid}.`);
    return room;
  }

  private joined(jid: string): Room {
    const room = this.known(jid);
    if (room.state !== 'joined') throw new CommandFailure('conflict', `You are not in the room ${jid} right now${room.error ? `: ${room.error}` : ''}.`);
    return room;
  }

  occupants(jid: string): OccupantView[] {
    return [...this.known(jid).occupants.values()].map(occupantView);
  }

  // ── stanzas ─────────────────────────────────────────────────────────────
  stanza(stanza: Element): boolean {
    if (stanza.is('presence')) return this.presence(stanza);
    if (stanza.is('iq')) return this.pingAnswer(stanza);
    if (!stanza.is('message') || isMamResult(stanza)) return false;
    const carbon = stanza.getChild('received', NS_CARBONS) ?? stanza.getChild('sent', NS_CARBONS);
    if (carbon) return this.privateCarbon(stanza, carbon);
    const from = parseJid(stanza.attrs.from);
    const invite = parseInvite(stanza, this.ctx.bare);
    if (invite) {
      if (invite.kind === 'invite') this.invited(invite);
      else this.ctx.log('warn', `ignored ${invite.reason} from ${stanza.attrs.from ?? 'nobody'}`);
      return true;
    }
    const room = from && this.rooms.get(from.bare);
    if (!room) return false;
    room.lastHeard = this.ctx.clock.now();
    const type = stanza.attrs.type;
    // §10.2.1: the room's configuration changed (status 104, 172–174): whether it may be encrypted may have too.
    if (!from.resource && [...statusCodesOf(stanza)].some((code) => CONFIG_CHANGED.has(code))) {
      const session = this.ctx.liveSession();
      if (session) void this.learn(session, room);
    }
    if (type === 'groupchat' || type === 'error' || !from.resource) this.roomMessage(room, stanza);
    else this.privateMessage(parsePrivateMessage(stanza, room.jid, this.ctx.clock.now()));
    return true;
  }

  /** A copy of a private message my other device sent or received (XEP-0280): it belongs with the occupant, not a one-to-one chat. */
  private privateCarbon(stanza: Element, carbon: Element): boolean {
    if (stanza.attrs.from !== this.ctx.bare) return false; // the chat feature rejects it
    const inner = carbon.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
    const sent = carbon.name === 'sent';
    const occupant = parseJid(sent ? inner?.attrs.to : inner?.attrs.from);
    // Marked as a room's private message (§7.5), or with an occupant of a room we are in.
    const marked = Boolean(inner?.getChild('x', NS_MUC_USER));
    if (!inner || !occupant?.resource || !(marked || this.rooms.has(occupant.bare))) return false;
    if (sent) {
      const body = inner.getChildText('body');
      if (body === null || body.trim() === '') return true;
      const id = inner.attrs.id;
      const originId = inner.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id;
      this.privateMessage({
        kind: 'private',
        record: {
          peer: occupant.full,
          direction: 'out',
          sender: this.ctx.bare,
          ...(id ? { messageId: id } : {}),
          ...(originId ? { originId } : {}),
          body,
          ts: this.ctx.clock.now(),
          state: 'sent',
        },
      });
    } else {
      this.privateMessage(parsePrivateMessage(inner, occupant.bare, this.ctx.clock.now()));
    }
    return true;
  }

  private privateMessage(parsed: ReturnType<typeof parsePrivateMessage>): void {
    if (parsed.kind !== 'private') return;
    this.announceStored([this.ctx.archive.messages.store(this.ctx.accountId, parsed.record)]);
  }

  private messageContext(room: Room): RoomMessageContext {
    return {
      room: room.jid,
      ownBareJid: this.ctx.bare,
      ownNick: room.nick,
      ...(room.self?.occupantId ? { ownOccupantId: room.self.occupantId } : {}),
      occupantIds: room.occupantIds,
      now: this.ctx.clock.now(),
      decrypt: this.omemo?.decrypt,
      realJid: (nick, occupantId) => {
        const occupant = occupantId ? [...room.occupants.values()].find((o) => o.occupantId === occupantId) : room.occupants.get(nick);
        return occupant?.jid;
      },
    };
  }

  private roomMessage(room: Room, stanza: Element): void {
    const parsed = parseRoomMessage(stanza, this.messageContext(room));
    if (parsed.kind === 'subject') {
      room.subject = parsed.subject;
      if (room.state === 'joined') this.ctx.archive.rooms.put(this.ctx.accountId, { jid: room.jid, nick: room.nick, subject: parsed.subject });
      this.changed(room);
      return;
    }
    if (parsed.kind === 'error') {
      const updated = this.ctx.archive.messages.advanceOutgoing(this.ctx.accountId, room.jid, parsed.messageId, 'failed', parsed.text);
      if (updated) this.ctx.emit('message.updated', updated);
      return;
    }
    if (parsed.kind === 'rejected') {
      this.ctx.log('warn', `${this.ctx.bare}: rejected a message in ${room.jid}: ${parsed.reason}`);
      return;
    }
    if (parsed.kind === 'message') {
      const { archive, accountId } = this.ctx;
      this.announceStored([archive.messages.store(accountId, placeLive(archive, accountId, parsed.record))]);
      // The room's echo of what we sent: it reached everyone.
      if (parsed.record.direction === 'out') this.confirm(room, parsed.record);
    } else if (parsed.kind === 'echo') {
      this.confirm(room, parsed);
    } else if (parsed.kind === 'event' || parsed.kind === 'moderated') {
      const changed = this.applyEvent(parsed.event);
      if (changed) this.ctx.emit('message.updated', changed);
    }
  }

  private confirm(room: Room, record: Pick<MessageRecord, 'originId' | 'messageId'>): void {
    const id = record.originId ?? record.messageId;
    if (!id) return;
    const updated = this.ctx.archive.messages.advanceOutgoing(this.ctx.accountId, room.jid, id, 'delivered');
    if (updated) this.ctx.emit('message.updated', updated);
  }

  /** Stores a retraction or reaction; returns the message it changed, to announce once committed. */
  private applyEvent(event: MessageEventRecord): MessageView | undefined {
    const result = this.ctx.archive.messages.storeEvent(this.ctx.accountId, event);
    return result.created && result.message ? result.message : undefined;
  }

  private announceStored(stored: StoreResult[]): void {
    const conversations = new Map<number, StoreResult['conversation']>();
    for (const { message, conversation, created, updated } of stored) {
      if (created) this.ctx.emit('message.added', message);
      else if (updated) this.ctx.emit('message.updated', message);
      if (created) conversations.set(conversation.id, conversation);
    }
    for (const conversation of conversations.values()) this.ctx.emit('conversation.changed', conversation);
  }

  // ── occupants ───────────────────────────────────────────────────────────
  private presence(stanza: Element): boolean {
    const parsed = parseRoomPresence(stanza, {
      isRoom: (bare) => this.rooms.has(bare),
      ownNick: (jid) => this.rooms.get(jid)?.renaming?.nick ?? this.rooms.get(jid)?.nick,
      occupantIds: (jid) => this.rooms.get(jid)?.occupantIds ?? false,
    });
    if (parsed.kind === 'ignored') return false;
    const room = this.rooms.get(parsed.room)!;
    room.lastHeard = this.ctx.clock.now();
    switch (parsed.kind) {
      case 'error':
        if (room.renaming && parsed.nick === room.renaming.nick) room.renaming.reject(new Error(parsed.text));
        else if (room.joining) {
          room.joining.reject(Object.assign(new Error(parsed.text), { condition: parsed.condition }));
          delete room.joining;
        } else this.ctx.log('info', `${room.jid}: the room refused a presence: ${parsed.text}`);
        break;
      case 'available': {
        const { occupant } = parsed;
        const known = room.occupants.has(occupant.nick);
        room.occupants.set(occupant.nick, occupant);
        if (known) this.queueChanged(room, occupant);
        else this.queueAdded(room, occupant);
        if (parsed.self && parsed.created) room.created = true;
        if (!known) this.learnDevicesOf(room, occupant);
        if (occupant.jid && ['owner', 'admin', 'member'].includes(occupant.affiliation)) room.affiliated.add(occupant.jid);
        else if (occupant.jid) room.affiliated.delete(occupant.jid);
        if (parsed.self) this.selfPresence(room, occupant);
        else this.schedule(room);
        break;
      }
      case 'unavailable': {
        const gone = room.occupants.get(parsed.nick);
        room.occupants.delete(parsed.nick);
        if (gone?.jid && (parsed.departure === 'banned' || parsed.departure === 'affiliation-changed' || parsed.departure === 'members-only')) room.affiliated.delete(gone.jid);
        if (gone) this.queueRemoved(room, { nick: parsed.nick, why: parsed.departure, ...(parsed.reason ? { reason: parsed.reason } : {}), ...(parsed.newNick ? { newNick: parsed.newNick } : {}) });
        if (parsed.self && parsed.departure === 'nick-changed' && parsed.newNick) {
          // Our new nick's presence follows and settles the rename.
          if (room.renaming) room.renaming.nick = parsed.newNick;
        } else if (parsed.self) this.removed(room, parsed.departure, parsed.reason, parsed.alternate);
        this.schedule(room);
        break;
      }
    }
    return true;
  }

  /** In a room that may be encrypted, an occupant's devices are learnt as they come in (they need not be a contact). */
  private learnDevicesOf(room: Room, occupant: Occupant): void {
    if (room.nonAnonymous && room.membersOnly && occupant.jid && occupant.jid !== this.ctx.bare) this.omemo?.learnDevices(occupant.jid);
  }

  private selfPresence(room: Room, occupant: Occupant): void {
    room.self = occupant;
    // The room may have changed our nick (status 210) or we asked it to.
    const renamed = room.nick !== occupant.nick;
    room.nick = occupant.nick;
    if (room.renaming && room.renaming.nick === occupant.nick) room.renaming.resolve();
    if (renamed) this.ctx.archive.rooms.put(this.ctx.accountId, { jid: room.jid, nick: room.nick, ...(room.subject !== undefined ? { subject: room.subject } : {}) });
    // Our own presence comes last in a join (§7.2.3): the occupant list is complete.
    this.flush(room);
    if (room.state !== 'joined') {
      room.state = 'joined';
      delete room.error;
    }
    this.changed(room);
    room.joining?.resolve();
    delete room.joining;
  }

  /** We are out of the room: said why, forgotten unless the service will be back. */
  private removed(room: Room, why: Departure, reason?: string, alternate?: string): void {
    room.state = 'left';
    const words = departureWords(why, reason, alternate);
    if (words) room.error = words;
    for (const nick of room.occupants.keys()) this.queueRemoved(room, { nick, why: 'left' });
    room.occupants.clear();
    delete room.self;
    this.disarm(room);
    if (why === 'kicked' || why === 'banned' || why === 'destroyed' || why === 'affiliation-changed' || why === 'members-only') {
      this.ctx.archive.rooms.remove(this.ctx.accountId, room.jid);
    } else {
      // Not sent away: the service went down, or dropped us unasked. We go back when it lets us.
      room.timer = this.ctx.clock.setTimeout(() => room.state === 'left' && this.rejoin(room), RETRY_MS);
    }
    this.flush(room);
    this.changed(room);
  }

  private queueAdded(room: Room, occupant: Occupant): void {
    const { batch } = room;
    // Gone and back within one batch: for the window, a change.
    if (batch.removed.delete(occupant.nick)) batch.changed.set(occupant.nick, occupant);
    else batch.added.set(occupant.nick, occupant);
  }

  private queueChanged(room: Room, occupant: Occupant): void {
    const { batch } = room;
    if (batch.added.has(occupant.nick)) batch.added.set(occupant.nick, occupant);
    else batch.changed.set(occupant.nick, occupant);
  }

  private queueRemoved(room: Room, departed: Departed): void {
    const { batch } = room;
    // A kick or a ban is news even for someone who just came in: announce the arrival first.
    if (batch.added.has(departed.nick) && (departed.why === 'kicked' || departed.why === 'banned')) this.flush(room);
    // Never announced: nothing to take back.
    if (batch.added.delete(departed.nick)) return;
    batch.changed.delete(departed.nick);
    batch.removed.set(departed.nick, departed);
  }

  private schedule(room: Room): void {
    if (room.batch.timer === undefined) room.batch.timer = this.ctx.clock.setTimeout(() => this.flush(room), OCCUPANT_BATCH_MS);
  }

  /** Announces the occupant changes gathered so far, in one event. */
  private flush(room: Room): void {
    const { batch } = room;
    if (batch.timer !== undefined) this.ctx.clock.clearTimeout(batch.timer);
    delete batch.timer;
    if (batch.added.size + batch.changed.size + batch.removed.size === 0) return;
    this.ctx.emit('room.occupants', {
      accountId: this.ctx.accountId,
      room: room.jid,
      added: [...batch.added.values()].map(occupantView),
      changed: [...batch.changed.values()].map(occupantView),
      removed: [...batch.removed.values()],
    });
    batch.added.clear();
    batch.changed.clear();
    batch.removed.clear();
  }

  // ── history ─────────────────────────────────────────────────────────────
  /** The room's archive from the last id we hold (the newest page on a first join), deduplicated with what came live. */
  private async catchUp(session: Session, room: Room): Promise<void> {
    const { archive, accountId, log } = this.ctx;
    const state = archive.sync.getMamState(accountId, room.jid);
    let created = 0;
    // The room's archive orders everyone's messages: each new one goes after the one before it, whoever sent it.
    const order = new ArchiveOrder(state?.lastTs ?? 0, (record) => record.peer);
    const apply = (page: Page, after: string | null, complete = page.fin.complete) => {
      const stored: StoreResult[] = [];
      const ours: Array<Pick<MessageRecord, 'originId' | 'messageId'>> = [];
      const changed: MessageView[] = [];
      archive.transaction(() => {
        let lastTs = archive.sync.getMamState(accountId, room.jid)?.lastTs ?? null;
        const ctx = { ...this.messageContext(room), queryIds: page.queryIds };
        // Messages in runs, each run stored as one batch (a third of the cost of one by one).
        let run: MessageRecord[] = [];
        const storeRun = () => {
          for (const one of run.length ? archive.messages.storeBatch(accountId, run, order) : []) {
            stored.push(one);
            lastTs = Math.max(lastTs ?? 0, one.message.ts);
          }
          run = [];
        };
        for (const stanza of page.stanzas) {
          const result = parseRoomArchiveResult(stanza, ctx);
          if (result.kind === 'rejected') {
            log('warn', `${this.ctx.bare}: rejected a room archive result: ${result.reason}`);
            continue;
          }
          const parsed = result.message;
          if (parsed.kind === 'message') {
            run.push(parsed.record);
            if (parsed.record.direction === 'out') ours.push(parsed.record);
          } else if (parsed.kind === 'echo') {
            ours.push(parsed);
          } else if (parsed.kind === 'event' || parsed.kind === 'moderated') {
            // In archive order: an event finds the message it names already stored.
            storeRun();
            const message = this.applyEvent(parsed.event);
            if (message) changed.push(message);
          }
        }
        storeRun();
        archive.sync.setMamState(accountId, room.jid, { lastStanzaId: page.fin.last ?? after, lastTs, complete });
      });
      created += stored.filter((s) => s.created).length;
      this.announceStored(stored);
      for (const message of changed) this.ctx.emit('message.updated', message);
      // What we sent and the room archived reached everyone, even if its echo never reached us.
      for (const record of ours) this.confirm(room, record);
    };
    if (!state) {
      // Paging backwards, the page's `last` is its newest message: the next catch-up goes on from it.
      apply(await this.collector.page(session, { max: FIRST_JOIN_PAGE, before: true }, room.jid), null, true);
    } else {
      const { gapSince } = await pageForward(this.collector, session, room.jid, state, log, apply);
      if (gapSince !== undefined) {
        for (const notice of archive.messages.addGapNotices(accountId, gapSince, this.ctx.clock.now(), room.jid)) this.ctx.emit('message.added', notice);
      }
    }
    log('info', `${this.ctx.bare}: caught up ${room.jid} from its archive: ${created} new messages`);
  }

  // ── sending ─────────────────────────────────────────────────────────────
  /** Stores a room message as pending (archive first); it goes out now if we are in the room, else once we are. */
  send(jid: string, body: string): MessageView {
    const room = this.known(jid);
    const encryption = this.omemo?.modeFor(jid, this.members(room), this.absentMembers(room));
    const message = storePending(this.ctx, jid, body, {
      ...(room.self?.occupantId ? { occupantId: room.self.occupantId } : {}),
      ...(encryption ? { encryption } : {}),
    });
    const session = this.ctx.liveSession();
    if (session && room.state === 'joined') this.transmitRoom(session, room, message);
    return message;
  }

  /** The real bare JIDs of everyone in the room but us (only a non-anonymous room shows them all). */
  private members(room: Room): string[] {
    return [...new Set([...room.occupants.values()].flatMap((o) => (o.jid && o.jid !== this.ctx.bare ? [o.jid] : [])))];
  }

  /** Those who belong to the room but are not in it now (nor us). */
  private absentMembers(room: Room): string[] {
    const present = new Set(this.members(room));
    return [...room.affiliated].filter((jid) => jid !== this.ctx.bare && !present.has(jid));
  }

  /**
   * A room message of ours goes out as it is, or sealed to every occupant's devices when it was
   * stored encrypted: one at a time, so the room keeps their order; one that cannot be sealed
   * (an occupant whose address the room hides, or who has no device) fails with the reason and
   * never goes in clear.
   */
  private transmitRoom(session: Session, room: Room, message: Pick<MessageView, 'body' | 'encryption'> & { messageId: string }): void {
    const plain = roomMessage(room.jid, message.messageId, message.body);
    if (!message.encryption) return this.transmit(session, plain);
    const hidden = [...room.occupants.values()].find((o) => !o.jid && o.nick !== room.nick);
    const omemo = this.omemo;
    const sealed = this.sealing.then(() => {
      if (!omemo) throw new Error('end-to-end encryption is not available');
      if (hidden) throw new Error(`the room does not show who ${hidden.nick} is`);
      return omemo.seal(room.jid, plain, this.members(room), message.encryption, this.absentMembers(room));
    });
    this.sealing = sealed.catch(() => {});
    sealed.then(
      (stanza) => this.transmit(session, stanza),
      (error: Error) => {
        const updated = this.ctx.archive.messages.advanceOutgoing(this.ctx.accountId, room.jid, message.messageId, 'failed', `Not sent, it could not be encrypted: ${error.message}`);
        if (updated) this.ctx.emit('message.updated', updated);
      },
    );
  }

  /** A private message to an occupant, in its own conversation (room@service/nick). */
  sendPrivate(jid: string, nick: string, body: string): MessageView {
    this.joined(jid);
    const message = storePending(this.ctx, `${jid}/${nick}`, body);
    this.transmit(sessionFor(this.ctx), privateMessage(`${jid}/${nick}`, message.messageId, body));
    return message;
  }

  private flushOutbox(session: Session, room: Room): void {
    for (const message of this.ctx.archive.messages.pendingOutgoing(this.ctx.accountId, 'groupchat')) {
      if (message.peer === room.jid) this.transmitRoom(session, room, message);
    }
  }

  private transmit(session: Session, stanza: Element): void {
    session.entity.send(stanza).then(
      () => {
        if (session.streamManagement.enabled) return;
        const updated = this.ctx.archive.messages.advanceOutgoing(this.ctx.accountId, stanza.attrs.to as string, stanza.attrs.id as string, 'sent');
        if (updated) this.ctx.emit('message.updated', updated);
      },
      (error: Error) => this.ctx.log('warn', `room message not sent, will retry on rejoin: ${error.message}`),
    );
  }

  async setSubject(jid: string, subject: string): Promise<RoomView> {
    this.joined(jid);
    await sessionFor(this.ctx).entity.send(subjectMessage(jid, subject));
    return this.view(this.known(jid));
  }

  // ── self-ping (XEP-0410) ────────────────────────────────────────────────
  private arm(room: Room): void {
    this.disarm(room);
    room.lastHeard = this.ctx.clock.now();
    room.timer = this.ctx.clock.setTimeout(() => void this.check(room), this.idleMs);
  }

  private disarm(room: Room): void {
    if (room.timer !== undefined) this.ctx.clock.clearTimeout(room.timer);
    delete room.timer;
  }

  private async check(room: Room): Promise<void> {
    delete room.timer;
    const session = this.ctx.liveSession();
    if (!session || room.state !== 'joined' || this.rooms.get(room.jid) !== room) return;
    const quiet = this.ctx.clock.now() - room.lastHeard;
    if (quiet < this.idleMs) {
      room.timer = this.ctx.clock.setTimeout(() => void this.check(room), this.idleMs - quiet);
      return;
    }
    const error = await this.ping(session, `${room.jid}/${room.nick}`);
    if (this.rooms.get(room.jid) !== room || room.state !== 'joined' || this.ctx.liveSession() !== session) return;
    const verdict = selfPingVerdict(error);
    if (verdict === 'not-joined') {
      this.ctx.log('info', `${room.jid}: the room no longer knows us (${error?.condition ?? 'no answer'}); rejoining`);
      this.rejoin(room);
    } else {
      room.lastHeard = this.ctx.clock.now();
      room.timer = this.ctx.clock.setTimeout(() => void this.check(room), verdict === 'joined' ? this.idleMs : Math.min(this.idleMs, RETRY_MS));
    }
  }

  /**
   * Pings our own occupant JID; resolves with the error, if any. Sent outside the IQ caller, whose
   * promise for an error answer that arrives before the write completes is left unhandled.
   */
  private ping(session: Session, occupant: string): Promise<{ name?: string; condition?: string } | undefined> {
    const id = randomUUID();
    return new Promise((resolve) => {
      const timer = this.ctx.clock.setTimeout(() => {
        this.pings.delete(id);
        resolve({ name: 'TimeoutError' });
      }, this.pingTimeoutMs);
      this.pings.set(id, {
        from: occupant,
        settle: (answer) => {
          this.ctx.clock.clearTimeout(timer);
          this.pings.delete(id);
          resolve(answer);
        },
      });
      session.entity.send(xml('iq', { type: 'get', to: occupant, id }, selfPing())).catch(() => this.pings.get(id)?.settle({ name: 'TimeoutError' }));
    });
  }

  /** The answer to one of our self-pings, from the occupant JID we pinged. */
  private pingAnswer(stanza: Element): boolean {
    const ping = this.pings.get(stanza.attrs.id ?? '');
    if (!ping || stanza.attrs.from !== ping.from || (stanza.attrs.type !== 'result' && stanza.attrs.type !== 'error')) return false;
    ping.settle(stanza.attrs.type === 'error' ? { condition: errorCondition(stanza.getChild('error')) } : undefined);
    return true;
  }

  private rejoin(room: Room): void {
    delete room.timer;
    const session = this.ctx.liveSession();
    if (!session || this.rooms.get(room.jid) !== room) return;
    room.state = 'left';
    for (const nick of room.occupants.keys()) this.queueRemoved(room, { nick, why: 'left' });
    room.occupants.clear();
    delete room.self;
    this.flush(room);
    void this.enter(session, room).catch((error: Error) => this.ctx.log('warn', `${room.jid}: rejoin failed: ${error.message}`));
  }

  // ── owners and moderators ──────────────────────────────────────────────
  // ── invitations ─────────────────────────────────────────────────────────
  private invited(invite: Invite): void {
    if (this.rooms.get(invite.room)?.state === 'joined') return; // already in: nothing to ask
    const entry = { ...invite, receivedAt: this.ctx.clock.now() };
    this.invites.set(invite.room, entry);
    this.ctx.emit('room.invited', this.inviteView(entry));
  }

  private inviteView(invite: Invite & { receivedAt: number }): RoomInviteView {
    return {
      accountId: this.ctx.accountId,
      room: invite.room,
      inviter: invite.inviter,
      via: invite.via,
      ...(invite.reason ? { reason: invite.reason } : {}),
      hasPassword: invite.password !== undefined,
      // Looked up when shown: someone added to the roster since no longer waits with the strangers.
      stranger: !isContact(this.ctx.archive, this.ctx.accountId, invite.inviter),
      receivedAt: invite.receivedAt,
    };
  }

  /** Our nick in a room we are in or joining. */
  nickIn(jid: string): string | undefined {
    return this.rooms.get(jid)?.nick;
  }

  listInvites(): RoomInviteView[] {
    return [...this.invites.values()].map((invite) => this.inviteView(invite));
  }

  private forgetInvite(room: string): Invite | undefined {
    const invite = this.invites.get(room);
    if (!invite) return undefined;
    this.invites.delete(room);
    this.ctx.emit('room.inviteGone', { accountId: this.ctx.accountId, room });
    return invite;
  }

  /** Invites `jid` to a room we are in, directly (XEP-0249): it reaches them even where the server holds back messages from rooms. */
  async invite(jid: string, invitee: string, reason?: string): Promise<void> {
    const room = this.joined(jid);
    await sessionFor(this.ctx).entity.send(directInvite(invitee, room.jid, reason, room.password));
  }

  /** Puts an invitation aside; the room tells the inviter of a mediated one (a direct one has no answer). */
  async declineInvite(room: string, reason?: string): Promise<void> {
    const invite = this.invites.get(room);
    if (!invite) throw new CommandFailure('not-found', `There is no invitation to ${room}.`);
    if (invite.via === 'mediated') await sessionFor(this.ctx).entity.send(declineInvite(room, invite.inviter, reason));
    this.forgetInvite(room);
  }

  async discover(service: string): Promise<Array<{ jid: string; name?: string }>> {
    const session = sessionFor(this.ctx);
    const query = await askServer(`Could not list the rooms of ${service}`, ask(session.iqCaller, 'get', service, discoItemsQuery(), { ownJids: [] }));
    return parseDiscoItems(query);
  }

  /** Joins a new room and returns its configuration form; the room stays locked until it is submitted (§10.1). */
  async create(jid: string, nick: string): Promise<{ room: RoomView; form: DataFormView }> {
    const room = await this.join(jid, nick, undefined, true);
    return { room, form: (await this.configurationForm(jid)) ?? { fields: [] } };
  }

  private async configurationForm(jid: string): Promise<DataForm | undefined> {
    const session = sessionFor(this.ctx);
    const query = await this.askRoom(`Could not get the settings of ${jid}`, session, 'get', jid, ownerQuery());
    return parseDataForm(query?.getChild('x', 'jabber:x:data'));
  }

  async configure(jid: string, values?: Record<string, string[]>): Promise<{ form?: DataFormView }> {
    if (!values) {
      const form = await this.configurationForm(jid);
      return form ? { form } : {};
    }
    const session = sessionFor(this.ctx);
    await this.askRoom(`Could not change the settings of ${jid}`, session, 'set', jid, ownerQuery(submitForm(`${NS_MUC}#roomconfig`, values)));
    // Whether it is members-only and non-anonymous now (what encryption needs).
    const room = this.rooms.get(jid);
    if (room) await this.learn(session, room);
    return {};
  }

  async destroy(jid: string, reason?: string): Promise<void> {
    const session = sessionFor(this.ctx);
    await this.askRoom(`Could not close ${jid}`, session, 'set', jid, destroyQuery(reason));
  }

  async admin(jid: string, item: AdminItem): Promise<RoomView> {
    const session = sessionFor(this.ctx);
    await this.askRoom(`Could not change ${item.nick ?? item.jid} in ${jid}`, session, 'set', jid, adminQuery([item]));
    return this.view(this.known(jid));
  }

  async moderate(jid: string, stanzaId: string, reason?: string): Promise<void> {
    const session = sessionFor(this.ctx);
    await this.askRoom('Could not retract the message', session, 'set', jid, moderateQuery(stanzaId, reason));
  }

  private askRoom(what: string, session: Session, type: 'get' | 'set', jid: string, child: Element): Promise<Element | undefined> {
    return ask(session.iqCaller, type, jid, child, { ownJids: [] }).catch((error: { name?: string; condition?: string; text?: string }) => {
      if (error.name !== 'StanzaError') return askServer(what, Promise.reject(error));
      const words: Record<string, string> = {
        forbidden: 'you are not allowed to do this in this room',
        'not-allowed': 'the room does not allow this',
        'item-not-found': 'the room does not exist (or no longer does)',
        'not-acceptable': 'the room did not accept this',
        conflict: 'the room refused: it conflicts with its current state',
        'feature-not-implemented': 'the room does not support this',
        'service-unavailable': 'the room does not support this',
        'bad-request': 'the room did not understand the request',
      };
      const said = words[error.condition ?? ''] ?? `the room answered “${error.condition}”`;
      throw failure(what, `${said}${error.text ? ` (${error.text})` : ''}`);
    });
  }
}

function roomFor(scope: CommandScope, accountId: string): MucFeature {
  return scope.account(accountId).feature(mucModule);
}

export const mucModule: FeatureModule<MucFeature> = {
  name: 'muc',
  create: (ctx, account) => new MucFeature(ctx, account.use(mamModule).collector, account.use(omemoModule)),
  events: ['room.changed', 'room.occupants', 'room.invited', 'room.inviteGone', 'message.added', 'message.updated', 'conversation.changed'],
  commands: {
    'rooms.discover': ({ accountId, service }, scope) => roomFor(scope, accountId).discover(service),
    'rooms.join': ({ accountId, room, nick, password }, scope) => roomFor(scope, accountId).join(room, nick, password),
    'rooms.leave': ({ accountId, room }, scope) => roomFor(scope, accountId).leave(room),
    'rooms.list': (_payload, scope) => scope.accounts().flatMap((account) => account.feature(mucModule).list()),
    'rooms.setNick': ({ accountId, room, nick }, scope) => roomFor(scope, accountId).setNick(room, nick),
    'rooms.setSubject': ({ accountId, room, subject }, scope) => roomFor(scope, accountId).setSubject(room, subject),
    'rooms.create': ({ accountId, room, nick }, scope) => roomFor(scope, accountId).create(room, nick),
    'rooms.configure': ({ accountId, room, values }, scope) => roomFor(scope, accountId).configure(room, values),
    'rooms.destroy': async ({ accountId, room, reason }, scope) => {
      await roomFor(scope, accountId).destroy(room, reason);
      return { accountId, jid: room };
    },
    'rooms.setRole': ({ accountId, room, nick, role, reason }, scope) =>
      roomFor(scope, accountId).admin(room, { nick, role, ...(reason ? { reason } : {}) }),
    'rooms.setAffiliation': ({ accountId, room, jid, affiliation, reason }, scope) =>
      roomFor(scope, accountId).admin(room, { jid, affiliation, ...(reason ? { reason } : {}) }),
    'rooms.occupants': ({ accountId, room }, scope) => roomFor(scope, accountId).occupants(room),
    'rooms.invite': async ({ accountId, room, jid, reason }, scope) => {
      await roomFor(scope, accountId).invite(room, jid, reason);
      return { accountId, room, jid };
    },
    'rooms.invites': (_payload, scope) =>
      scope.accounts().flatMap((account) => account.feature(mucModule).listInvites()).sort((a, b) => a.receivedAt - b.receivedAt),
    'rooms.declineInvite': async ({ accountId, room, reason }, scope) => {
      await roomFor(scope, accountId).declineInvite(room, reason);
      return { accountId, room };
    },
    'rooms.sendPrivate': ({ accountId, room, nick, body }, scope) => roomFor(scope, accountId).sendPrivate(room, nick, body),
    'rooms.moderate': async ({ messageId, reason }, scope) => {
      const message = scope.archive.messages.get(messageId);
      const conversation = scope.archive.conversations.get(message.conversationId);
      const stanzaId = scope.archive.messages.stanzaIdOf(messageId);
      if (conversation.kind !== 'groupchat' || !stanzaId) throw new CommandFailure('conflict', 'Only room messages the room has numbered can be retracted by a moderator.');
      await roomFor(scope, conversation.accountId).moderate(conversation.peer, stanzaId, reason);
      return { messageId };
    },
  },
};
