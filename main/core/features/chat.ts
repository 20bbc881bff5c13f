// One-to-one chat: incoming messages (live and carbons) stored before the window hears of
// them, receipts answered and applied, and the outbox: stored as pending, sent, marked sent
// on the stream-management ack, and resent with the same ids after a reconnect or restart.
import type { Element } from '@xmpp/xml';
import type { MessageView } from '../../../preload/contract';
import type { Session } from '../xmpp/session';
import { unacknowledged } from '../xmpp/xmppjs-adapter';
import { NS_RECEIPTS, bounceOutcome, chatMessage, enableCarbons, parseMessage, receiptFor, type Decryptor } from '../xmpp/chat';
import type { ReplyRef } from '../xmpp/relations';
import { parseJid } from '../xmpp/jid';
import { NS_MAM, isMamResult } from '../xmpp/mam';
import { CommandFailure } from '../api';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { placeLive } from './ordering';
import { markersModule, type MarkersFeature } from './markers';
import { discoModule } from './disco';
import { mayHearFromUs, withStranger } from './audience';
import { LateReceipts, type OwedReceipt } from './receipts';
import { BulkLane } from './outbound';
import { storePending } from './outbox';
import { relationsModule, type RelationsFeature } from './relations';
import { mucModule } from './muc';
import { omemoModule } from './omemo';

type ChatParsed = Extract<ReturnType<typeof parseMessage>, { kind: 'chat' }>;

/** End-to-end encryption as chat uses it (the omemo feature): which to use, sealing, reading. */
export interface MessageEncryption {
  /** The encryption a new message to `peer` gets; undefined: it goes as it is. */
  modeFor(peer: string): 'omemo' | 'omemo2' | undefined;
  /** The encrypted form of an outgoing message, sealed in the order asked; rejects with the reason it cannot be encrypted. */
  seal(peer: string, plain: Element): Promise<Element>;
  decrypt: Decryptor;
}

export class ChatFeature implements Feature {
  readonly discoFeatures = [NS_RECEIPTS];
  /** Receipts a dropped stream never got acknowledged: owed again on the next one. */
  private owedReceipts: Element[] = [];
  /**
   * Archived messages that arrive while the catch-up runs (offline flush, re-routed ones)
   * wait here: the catch-up stores them in archive order, and what it did not see is stored
   * once it ends (`release`). Stored on arrival, an old message would jump the queue.
   */
  private held: ChatParsed[] | undefined;
  /** Per session: receipts owed after a catch-up go out behind what the user sends. */
  private readonly bulk = new WeakMap<Session, BulkLane>();

  constructor(
    private readonly ctx: FeatureContext,
    private readonly markers: MarkersFeature,
    private readonly relations: RelationsFeature,
    /** Whether our server archives our messages (urn:xmpp:mam:2 on our account). */
    private readonly serverArchives: () => boolean = () => false,
    /** Receipts owed for archived messages; the catch-up adds its own, answered together in `release`. */
    readonly lateReceipts: LateReceipts = new LateReceipts(),
    readonly encryption?: MessageEncryption,
  ) {}

  wire(session: Session): void {
    this.laneOf(session);
    let unackedReceipts: Element[] = [];
    session.entity.on('disconnect', () => {
      const unacked = unacknowledged(session.streamManagement);
      unackedReceipts = unacked.filter((stanza) => stanza.getChild('received', NS_RECEIPTS));
      // Late receipts the bulk lane had not got acknowledged are owed as well. The same stream
      // may drop again while resuming: owe each receipt once.
      for (const receipt of [...unackedReceipts, ...this.laneOf(session).takeLeftovers()]) {
        if (!this.owedReceipts.includes(receipt)) this.owedReceipts.push(receipt);
      }
    });
    // A resumed stream sent its unacknowledged stanzas again itself: those receipts are no
    // longer owed; the rest never reached the server and go out now, behind the user's messages.
    session.streamManagement.on('resumed', () => {
      const owed = this.owedReceipts.filter((receipt) => !unackedReceipts.includes(receipt));
      this.owedReceipts = [];
      const lane = this.laneOf(session);
      for (const receipt of owed) lane.send(receipt);
    });
    session.streamManagement.on('ack', (stanza: Element) => {
      const id = stanza.attrs.id;
      const peer = parseJid(stanza.attrs.to)?.bare;
      if (stanza.is('message') && id && peer) this.advance(peer, id, 'sent');
    });
  }

  async online(session: Session): Promise<void> {
    this.held = [];
    // Receipts a catch-up owed stay owed when the stream dropped before it ended: the pages it
    // committed are not read again, so the next catch-up would not owe them anew.
    // Carbons (XEP-0280): what my other devices send and receive shows here too.
    await session.iqCaller.set(enableCarbons()).catch((error: Error) => this.ctx.log('info', `carbons unavailable: ${error.message}`));
  }

  async ready(session: Session): Promise<void> {
    // The outbox first, in one go: a message the user sends now must not overtake older ones
    // still waiting, and owed receipts queue behind both in the bulk lane.
    this.flushOutbox();
    const owed = this.owedReceipts;
    this.owedReceipts = [];
    const lane = this.laneOf(session);
    for (const receipt of owed) lane.send(receipt);
  }

  stanza(stanza: Element, session: Session): boolean {
    // Archive results are the MAM feature's to route, whatever their content.
    if (!stanza.is('message') || isMamResult(stanza)) return false;
    const parsed = parseMessage(stanza, { ownBareJid: this.ctx.bare, now: this.ctx.clock.now(), decrypt: this.encryption?.decrypt });
    switch (parsed.kind) {
      case 'chat':
        if (this.held && parsed.record.stanzaId) this.held.push(parsed);
        else this.storeLive(parsed, session);
        break;
      case 'receipt':
        for (const message of this.ctx.archive.messages.deliverOutgoingUpTo(this.ctx.accountId, parsed.peer, parsed.messageId)) this.ctx.emit('message.updated', message);
        break;
      case 'displayed':
        this.markers.receive(parsed);
        break;
      case 'event':
        this.relations.receive(parsed.event);
        break;
      case 'error': {
        const state = bounceOutcome(parsed.condition, this.serverArchives());
        this.advance(parsed.peer, parsed.messageId, state, state === 'failed' ? parsed.text : undefined);
        break;
      }
      case 'rejected':
        this.ctx.log('warn', `${this.ctx.bare}: rejected message: ${parsed.reason}`);
        break;
      case 'ignored':
        // Not a chat message (a PEP notification, say): a later feature may want it.
        return false;
    }
    return true;
  }

  /**
   * Archive ids of the held messages our server kept for us while we were away (offline
   * storage): older than what the catch-up reads first, so it reads back until it has them.
   */
  heldFromOffline(): Set<string> {
    return new Set((this.held ?? []).filter((parsed) => parsed.timedBy === 'server').map((parsed) => parsed.record.stanzaId!.id));
  }

  /**
   * The catch-up is over: store what arrived meanwhile and it did not already bring. After a
   * first connect, what offline storage handed over that the catch-up did not read is older
   * than all it read (`readBackTo`), though our server's whole-second stamp may say the same time.
   */
  release(session: Session, readBackTo?: number): void {
    const held = this.held ?? [];
    this.held = undefined;
    // What waited in offline storage is late: together with what the catch-up owes, receipts
    // only for what the senders can still use. What came in live while the catch-up ran is
    // answered like any live message: its sender may be resending what a cut left unconfirmed.
    this.lateReceipts.add(
      held.flatMap((parsed) => {
        const offline = parsed.timedBy === 'server';
        const early = offline && readBackTo !== undefined && parsed.record.ts >= readBackTo;
        const firstBacklog = offline && readBackTo !== undefined;
        return this.storeLive(early ? { ...parsed, record: { ...parsed.record, ts: readBackTo - 1 } } : parsed, session, { late: offline, keepServerTime: firstBacklog });
      }),
    );
    const { send, owed } = this.lateReceipts.take(this.ctx.clock.now());
    if (owed > 0) this.ctx.log('info', `${this.ctx.bare}: answering ${send.length} of ${owed} receipts asked for by archived messages`);
    if (send.length === 0) return;
    const lane = this.laneOf(session);
    for (const receipt of send) lane.send(receiptFor(receipt.to, receipt.messageId));
  }

  /** Stores a message; returns the receipt it is owed, sent at once unless it came `late`. */
  private storeLive(parsed: ChatParsed, session: Session, { late = false, keepServerTime = false } = {}): OwedReceipt[] {
    const { archive, accountId } = this.ctx;
    const record = withStranger(archive, accountId, placeLive(archive, accountId, parsed.record, keepServerTime));
    const { message, conversation, created, updated } = archive.messages.store(accountId, record);
    if (created) {
      this.ctx.emit('message.added', message);
      this.ctx.emit('conversation.changed', conversation);
    }
    if (updated) this.relations.announce(message); // a correction
    const { messageId, peer } = parsed.record;
    if (!parsed.receiptRequested || !messageId || !mayHearFromUs(archive, accountId, peer)) return [];
    const receipt = { to: parsed.replyTo, peer, messageId, ts: message.ts };
    if (!late) this.sendReceipt(session, receipt);
    return late ? [receipt] : [];
  }

  private laneOf(session: Session): BulkLane {
    let lane = this.bulk.get(session);
    if (!lane) this.bulk.set(session, (lane = new BulkLane(session)));
    return lane;
  }

  private sendReceipt(session: Session, receipt: OwedReceipt): void {
    void session.entity.send(receiptFor(receipt.to, receipt.messageId)).catch(() => {});
  }

  /**
   * Stores an outgoing message as pending (archive first), then sends it when it can.
   * `replyTo`: the archive id of the message it answers, in the same conversation (XEP-0461).
   */
  send(peer: string, body: string, replyTo?: number): MessageView {
    const encryption = this.encryption?.modeFor(peer);
    const { messageId, ...message } = storePending(this.ctx, peer, body, {
      ...(replyTo !== undefined ? { replyTo: this.replyRef(peer, replyTo) } : {}),
      ...(encryption ? { encryption } : {}),
    });
    const session = this.ctx.liveSession();
    if (session) this.transmit(session, peer, messageId, message);
    return message;
  }

  /**
   * My failed message goes back to the outbox and out again, with the id it was stored with:
   * if it arrived after all, the receiver can tell it is the same message.
   */
  retry(id: number): MessageView {
    const message = this.ctx.archive.messages.retryOutgoing(id);
    if (!message) throw new CommandFailure('invalid-payload', 'Only a message of mine that failed can be sent again.', 'messageId');
    this.ctx.emit('message.updated', message);
    const session = this.ctx.liveSession();
    const { peer, messageId } = this.ctx.archive.messages.refs(id);
    if (session && messageId) this.transmit(session, peer, messageId, message);
    return message;
  }

  /** How a reply names the message it answers: its sender's origin-id or id, and its sender. */
  private replyRef(peer: string, replyTo: number): { id: string; to: string } {
    const target = this.ctx.archive.messages.refs(replyTo);
    const id = target.originId ?? target.messageId;
    if (target.accountId !== this.ctx.accountId || target.peer !== peer) {
      throw new CommandFailure('invalid-payload', 'A reply answers a message of the same chat.', 'replyTo');
    }
    if (!id || target.notice) throw new CommandFailure('invalid-payload', 'This message cannot be answered: it has no id to name it by.', 'replyTo');
    return { id, to: target.sender };
  }

  /**
   * Sends what waits in the outbox, oldest first, with the ids it was stored with; not what
   * the stream still holds unacknowledged (a resumed stream sent that again itself).
   */
  flushOutbox(): void {
    const session = this.ctx.liveSession();
    if (!session) return;
    const inStream = new Set(unacknowledged(session.streamManagement).map((stanza) => stanza.attrs.id as string));
    for (const message of this.ctx.archive.messages.pendingOutgoing(this.ctx.accountId)) {
      if (!inStream.has(message.messageId)) this.transmit(session, message.peer, message.messageId, message);
    }
    // After the messages: a correction or reaction may name one of them.
    this.relations.flushOutbox(session);
  }

  private transmit(session: Session, peer: string, messageId: string, message: MessageView): void {
    const plain = chatMessage(peer, messageId, message.body, this.quoteOf(message));
    const write = (stanza: Element) =>
      session.entity.send(stanza).then(
        () => {
          // Without stream management the write is the best confirmation we get.
          if (!session.streamManagement.enabled) this.advance(peer, messageId, 'sent');
        },
        (error: Error) => this.ctx.log('warn', `send failed, will retry on reconnect: ${error.message}`),
      );
    if (!message.encryption) return void write(plain);
    // An encrypted message is sealed first (in order, so the outbox keeps its order); one that
    // cannot be sealed fails, and is never sent in clear. Should the stream drop meanwhile, it
    // stays pending: the next stream's outbox sends it in its place, behind nothing newer.
    const sealed = this.encryption ? this.encryption.seal(peer, plain) : Promise.reject(new Error('end-to-end encryption is not available'));
    const stale = () => this.ctx.liveSession() !== session;
    sealed.then(
      (stanza) => void (stale() || write(stanza)),
      (error: Error) => stale() || this.advance(peer, messageId, 'failed', `Not sent, it could not be encrypted: ${error.message}`),
    );
  }

  /** What a reply quotes, as the answered message reads now (empty when we do not have it). */
  private quoteOf(message: MessageView): (ReplyRef & { quoted: string }) | undefined {
    const reply = message.replyTo;
    if (!reply) return undefined;
    const quoted = reply.id !== undefined ? this.ctx.archive.messages.get(reply.id).body : '';
    return { id: reply.ref, ...(reply.to ? { to: reply.to } : {}), quoted };
  }

  private advance(peer: string, messageId: string, state: 'sent' | 'archived' | 'failed', error?: string): void {
    const updated = this.ctx.archive.messages.advanceOutgoing(this.ctx.accountId, peer, messageId, state, error);
    if (updated) this.ctx.emit('message.updated', updated);
  }
}

/** One-to-one chat; its commands also read and delete the archived conversations. */
export const chatModule: FeatureModule<ChatFeature> = {
  name: 'chat',
  create: (ctx, account) => {
    const disco = account.use(discoModule);
    return new ChatFeature(
      ctx,
      account.use(markersModule),
      account.use(relationsModule),
      () => disco.account?.features.includes(NS_MAM) ?? false,
      new LateReceipts(),
      account.use(omemoModule),
    );
  },
  events: ['message.added', 'message.updated', 'conversation.changed', 'conversation.removed'],
  commands: {
    'conversations.list': (_payload, { archive }) => archive.conversations.list(),
    'conversations.open': ({ accountId, peer }, scope) => {
      scope.account(accountId);
      return scope.archive.conversations.open(accountId, peer);
    },
    'messages.page': ({ conversationId, before, limit }, { archive }) => {
      archive.conversations.get(conversationId);
      return archive.messages.pageBefore(conversationId, before, limit);
    },
    'messages.send': ({ conversationId, body, replyTo }, scope) => {
      const conversation = scope.archive.conversations.get(conversationId);
      const account = scope.findAccount(conversation.accountId);
      if (!account) {
        throw new CommandFailure('not-found', 'The account of this chat was removed. Add it again to send from it.');
      }
      if (conversation.kind === 'groupchat') return account.feature(mucModule).send(conversation.peer, body);
      return account.feature(chatModule).send(conversation.peer, body, replyTo);
    },
    'messages.retry': ({ messageId }, scope) => {
      const { accountId, conversationId } = scope.archive.messages.refs(messageId);
      const account = scope.findAccount(accountId);
      if (!account) throw new CommandFailure('not-found', 'The account of this chat was removed. Add it again to send from it.');
      if (scope.archive.conversations.get(conversationId).kind === 'groupchat') {
        throw new CommandFailure('invalid-payload', 'A room message cannot be sent again yet; copy it into a new message.', 'messageId');
      }
      return account.feature(chatModule).retry(messageId);
    },
    'messages.pageAfter': ({ conversationId, after, limit }, { archive }) => {
      archive.conversations.get(conversationId);
      return archive.messages.pageAfter(conversationId, after, limit);
    },
    'messages.around': ({ messageId, limit }, { archive }) => archive.messages.pageAround(messageId, limit),
    'messages.search': (query, { archive }) => archive.messages.search(query),
    'conversations.update': ({ conversationId, ...change }, { archive, emit }) => {
      const conversation = archive.conversations.update(conversationId, change);
      emit('conversation.changed', conversation);
      return conversation;
    },
    'conversations.delete': ({ conversationId }, { archive, emit }) => {
      archive.conversations.delete(conversationId);
      emit('conversation.removed', { conversationId });
      void archive.purge.run();
      return { conversationId };
    },
  },
};
