// One-to-one chat: incoming messages (live and carbons) stored before the window hears of
// them, receipts answered and applied, and the outbox: stored as pending, sent, marked sent
// on the stream-management ack, and resent with the same ids after a reconnect or restart.
import { randomUUID } from 'node:crypto';
import type { Element } from '@xmpp/xml';
import type { MessageView } from '../../../preload/contract';
import type { Session } from '../xmpp/session';
import { NS_RECEIPTS, chatMessage, enableCarbons, parseMessage, receiptFor } from '../xmpp/chat';
import { parseJid } from '../xmpp/jid';
import { isMamResult } from '../xmpp/mam';
import type { Feature, FeatureContext } from './feature';
import { placeLive } from './ordering';
import type { MarkersFeature } from './markers';

type ChatParsed = Extract<ReturnType<typeof parseMessage>, { kind: 'chat' }>;

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

  constructor(
    private readonly ctx: FeatureContext,
    private readonly markers: MarkersFeature,
  ) {}

  wire(session: Session): void {
    let unackedReceipts: Element[] = [];
    session.entity.on('disconnect', () => {
      const unacked = session.streamManagement.outbound_q.map((item) => item.stanza);
      unackedReceipts = unacked.filter((stanza) => stanza.getChild('received', NS_RECEIPTS));
      // The same stream may drop again while resuming: owe each receipt once.
      this.owedReceipts.push(...unackedReceipts.filter((receipt) => !this.owedReceipts.includes(receipt)));
    });
    // A resumed stream sent its unacknowledged stanzas again itself: those receipts are no longer owed.
    session.streamManagement.on('resumed', () => {
      this.owedReceipts = this.owedReceipts.filter((receipt) => !unackedReceipts.includes(receipt));
    });
    session.streamManagement.on('ack', (stanza: Element) => {
      const id = stanza.attrs.id;
      const peer = parseJid(stanza.attrs.to)?.bare;
      if (stanza.is('message') && id && peer) this.advance(peer, id, 'sent');
    });
  }

  async online(session: Session): Promise<void> {
    this.held = [];
    // Carbons (XEP-0280): what my other devices send and receive shows here too.
    await session.iqCaller.set(enableCarbons()).catch((error: Error) => this.ctx.log('info', `carbons unavailable: ${error.message}`));
  }

  async ready(session: Session): Promise<void> {
    const owed = this.owedReceipts;
    this.owedReceipts = [];
    for (const receipt of owed) await session.entity.send(receipt);
    this.flushOutbox();
  }

  stanza(stanza: Element, session: Session): boolean {
    // Archive results are the MAM feature's to route, whatever their content.
    if (!stanza.is('message') || isMamResult(stanza)) return false;
    const parsed = parseMessage(stanza, { ownBareJid: this.ctx.bare, now: this.ctx.clock.now() });
    switch (parsed.kind) {
      case 'chat':
        if (this.held && parsed.record.stanzaId) this.held.push(parsed);
        else this.storeLive(parsed, session);
        break;
      case 'receipt':
        this.advance(parsed.peer, parsed.messageId, 'delivered');
        break;
      case 'displayed':
        this.markers.receive(parsed);
        break;
      case 'error':
        this.advance(parsed.peer, parsed.messageId, 'failed', parsed.text);
        break;
      case 'rejected':
        this.ctx.log('warn', `${this.ctx.bare}: rejected message: ${parsed.reason}`);
        break;
      case 'ignored':
        // Not a chat message (a PEP notification, say): a later feature may want it.
        return false;
    }
    return true;
  }

  /** The catch-up is over: store what arrived meanwhile and it did not already bring. */
  release(session: Session): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const parsed of held) this.storeLive(parsed, session);
  }

  private storeLive(parsed: ChatParsed, session: Session): void {
    const record = placeLive(this.ctx.archive, this.ctx.accountId, parsed.record);
    const { message, conversation, created } = this.ctx.archive.storeMessage(this.ctx.accountId, record);
    if (created) {
      this.ctx.emit('message.added', message);
      this.ctx.emit('conversation.changed', conversation);
    }
    if (parsed.receiptRequested && parsed.record.messageId) {
      void session.entity.send(receiptFor(parsed.replyTo, parsed.record.messageId)).catch(() => {});
    }
  }

  /** Stores an outgoing message as pending (archive first), then sends it when it can. */
  send(peer: string, body: string): MessageView {
    const messageId = randomUUID();
    const { message, conversation } = this.ctx.archive.storeMessage(this.ctx.accountId, {
      peer,
      direction: 'out',
      sender: this.ctx.bare,
      messageId,
      originId: messageId,
      body,
      ts: this.ctx.clock.now(),
      state: 'pending',
    });
    this.ctx.emit('message.added', message);
    this.ctx.emit('conversation.changed', conversation);
    const session = this.ctx.liveSession();
    if (session) this.transmit(session, peer, messageId, body);
    return message;
  }

  /**
   * Sends what waits in the outbox, oldest first, with the ids it was stored with; not what
   * the stream still holds unacknowledged (a resumed stream sent that again itself).
   */
  flushOutbox(): void {
    const session = this.ctx.liveSession();
    if (!session) return;
    const inStream = new Set(session.streamManagement.outbound_q.map((item) => item.stanza.attrs.id as string));
    for (const message of this.ctx.archive.pendingOutgoing(this.ctx.accountId)) {
      if (!inStream.has(message.messageId)) this.transmit(session, message.peer, message.messageId, message.body);
    }
  }

  private transmit(session: Session, peer: string, messageId: string, body: string): void {
    session.entity.send(chatMessage(peer, messageId, body)).then(
      () => {
        // Without stream management the write is the best confirmation we get.
        if (!session.streamManagement.enabled) this.advance(peer, messageId, 'sent');
      },
      (error: Error) => this.ctx.log('warn', `send failed, will retry on reconnect: ${error.message}`),
    );
  }

  private advance(peer: string, messageId: string, state: 'sent' | 'delivered' | 'failed', error?: string): void {
    const updated = this.ctx.archive.advanceOutgoing(this.ctx.accountId, peer, messageId, state, error);
    if (updated) this.ctx.emit('message.updated', updated);
  }
}
