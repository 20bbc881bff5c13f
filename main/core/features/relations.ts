// Relations between one-to-one messages: corrections (XEP-0308), reactions (XEP-0444) and
// retractions (XEP-0424) the user makes, and those that arrive (parsed in xmpp/chat.ts, the
// events among them applied here). What we send is archive first: applied and stored pending,
// announced, then sent; the chat outbox resends what the server has not acknowledged, with the
// same id, after a cut or a restart. Replies are messages and go with chat's `send`.
import { randomUUID } from 'node:crypto';
import type { Element } from '@xmpp/xml';
import type { MessageView } from '../../../preload/contract';
import type { Archive, MessageEventRecord, MessageRefs, PendingEvent } from '../archive/archive';
import type { Session } from '../xmpp/session';
import { unacknowledged } from '../xmpp/xmppjs-adapter';
import { parseJid } from '../xmpp/jid';
import { RELATION_FEATURES, isEmoji, parseCorrection, parseRelationEvent, relationMessage } from '../xmpp/relations';
import { CommandFailure } from '../api';
import type { CommandScope, Feature, FeatureContext, FeatureModule } from './feature';

/**
 * Applies a reaction or retraction that arrived (live, as a carbon, from our archive); returns
 * the message it changed. Only for a conversation we have: someone we never talked with gets no
 * chat made for them by naming a message. The archive lets only a message's author retract it.
 */
export function applyRelationEvent(archive: Pick<Archive, 'conversations' | 'messages'>, accountId: string, event: MessageEventRecord): MessageView | undefined {
  if (!archive.conversations.find(accountId, event.peer)) return undefined;
  const { message, created } = archive.messages.storeEvent(accountId, event);
  return created && message ? message : undefined;
}

export class RelationsFeature implements Feature {
  readonly discoFeatures = RELATION_FEATURES;

  constructor(private readonly ctx: FeatureContext) {}

  wire(session: Session): void {
    session.streamManagement.on('ack', (stanza: Element) => {
      const peer = parseJid(stanza.attrs.to)?.bare;
      const relation = stanza.is('message') && (parseCorrection(stanza) !== undefined || parseRelationEvent(stanza) !== undefined);
      if (relation && stanza.attrs.id && peer) this.ctx.archive.messages.eventSent(this.ctx.accountId, peer, stanza.attrs.id);
    });
  }

  /** A reaction or retraction that arrived live or as a carbon. */
  receive(event: MessageEventRecord): void {
    const changed = applyRelationEvent(this.ctx.archive, this.ctx.accountId, event);
    if (changed) this.announce(changed);
  }

  /** A message changed: the window hears of it, and of its chat when the preview may have changed with it. */
  announce(message: MessageView): void {
    this.ctx.emit('message.updated', message);
    if (message.editedAt !== undefined || message.retractedAt !== undefined) this.ctx.emit('conversation.changed', this.ctx.archive.conversations.get(message.conversationId));
  }

  /** Corrects one of my messages: the new text shows at once and goes out when it can. */
  correct(messageId: number, body: string): MessageView {
    const target = this.ownMessage(messageId, 'edit');
    const id = randomUUID();
    const { message, updated } = this.ctx.archive.messages.store(this.ctx.accountId, {
      peer: target.peer,
      direction: 'out',
      sender: this.ctx.bare,
      messageId: id,
      originId: id,
      body,
      ts: this.ctx.clock.now(),
      state: 'pending',
      // XEP-0308 §5: a correction names the original's id, even when it corrects a correction.
      replaces: target.messageId ?? target.originId!,
    });
    if (!updated) throw new CommandFailure('conflict', 'This message could not be edited: it was changed more recently.');
    this.announce(message);
    this.transmit({ kind: 'correction', peer: target.peer, id, target: target.messageId ?? target.originId!, payload: body });
    return message;
  }

  /** Sets my whole set of reactions to a message (replacing the one before). */
  react(messageId: number, emojis: string[]): MessageView {
    const wrong = emojis.find((emoji) => !isEmoji(emoji));
    if (wrong !== undefined) throw new CommandFailure('invalid-payload', `“${wrong.slice(0, 40)}” is not an emoji.`, 'emojis');
    const target = this.ctx.archive.messages.refs(messageId);
    if (target.notice) throw new CommandFailure('invalid-payload', 'This is a notice, not a message: it takes no reactions.');
    if (target.retracted) throw new CommandFailure('conflict', 'This message was deleted: it takes no reactions.');
    const ref = target.originId ?? target.messageId;
    if (!ref) throw new CommandFailure('conflict', 'This message has no id its sender gave it, so a reaction could not name it.');
    const unique = [...new Set(emojis)];
    return this.storeEvent(target, { kind: 'reaction', target: ref, emojis: unique }, JSON.stringify(unique));
  }

  /** Deletes one of my messages for everyone: a tombstone stays here, the peer is asked to remove it. */
  retract(messageId: number): MessageView {
    const target = this.ownMessage(messageId, 'delete');
    return this.storeEvent(target, { kind: 'retraction', target: target.originId ?? target.messageId! }, '');
  }

  /** Sends our relations the server has not acknowledged, oldest first, except those the stream still holds. */
  flushOutbox(session: Session): void {
    const inStream = new Set(unacknowledged(session.streamManagement).map((stanza) => stanza.attrs.id as string));
    for (const event of this.ctx.archive.messages.pendingEvents(this.ctx.accountId)) {
      // A correction of a message since retracted has nothing left to say.
      if (event.kind === 'correction' && event.payload === '') this.ctx.archive.messages.eventSent(this.ctx.accountId, event.peer, event.id);
      else if (!inStream.has(event.id)) this.send(session, event);
    }
  }

  private storeEvent(target: MessageRefs, relation: Pick<MessageEventRecord, 'kind' | 'target' | 'emojis'>, payload: string): MessageView {
    const id = randomUUID();
    const { message } = this.ctx.archive.messages.storeEvent(this.ctx.accountId, {
      ...relation,
      peer: target.peer,
      sender: this.ctx.bare,
      messageId: id,
      originId: id,
      ts: this.ctx.clock.now(),
      pending: true,
    });
    // The target is stored and ours to change (checked above): the event applied.
    this.announce(message!);
    this.transmit({ kind: relation.kind, peer: target.peer, id, target: relation.target, payload });
    return message!;
  }

  private ownMessage(messageId: number, verb: 'edit' | 'delete'): MessageRefs {
    const target = this.ctx.archive.messages.refs(messageId);
    if (target.direction !== 'out' || target.sender !== this.ctx.bare || target.notice) {
      throw new CommandFailure('invalid-payload', `Only your own messages can be ${verb === 'edit' ? 'edited' : 'deleted'}.`);
    }
    if (target.retracted) throw new CommandFailure('conflict', 'This message was deleted already.');
    if (!target.messageId && !target.originId) throw new CommandFailure('conflict', 'This message has no id to name it by.');
    return target;
  }

  private transmit(event: PendingEvent): void {
    const session = this.ctx.liveSession();
    if (session) this.send(session, event);
  }

  private send(session: Session, event: PendingEvent): void {
    session.entity.send(relationMessage(event)).then(
      () => {
        // Without stream management the write is the best confirmation we get.
        if (!session.streamManagement.enabled) this.ctx.archive.messages.eventSent(this.ctx.accountId, event.peer, event.id);
      },
      (error: Error) => this.ctx.log('warn', `send failed, will retry on reconnect: ${error.message}`),
    );
  }
}

/** The relations feature of the account a message belongs to; a removed account says so. */
function featureFor(scope: CommandScope, messageId: number): RelationsFeature {
  const { accountId } = scope.archive.messages.refs(messageId);
  const account = scope.findAccount(accountId);
  if (!account) throw new CommandFailure('not-found', 'The account of this chat was removed. Add it again to change its messages.');
  return account.feature(relationsModule);
}

/** Corrections and reactions are not encrypted yet: for an encrypted message they would go out in clear. */
function refuseForEncrypted(scope: CommandScope, messageId: number, what: string): void {
  if (scope.archive.messages.get(messageId).encryption) {
    throw new CommandFailure('invalid-payload', `An encrypted message cannot be ${what} yet: it would go out unencrypted.`, 'messageId');
  }
}

/** Edits, reactions and deletions for everyone; the chat outbox sends what waits of them. */
export const relationsModule: FeatureModule<RelationsFeature> = {
  name: 'relations',
  create: (ctx) => new RelationsFeature(ctx),
  events: ['message.updated', 'conversation.changed'],
  commands: {
    'messages.correct': ({ messageId, body }, scope) => {
      refuseForEncrypted(scope, messageId, 'corrected');
      return featureFor(scope, messageId).correct(messageId, body);
    },
    'messages.react': ({ messageId, emojis }, scope) => {
      refuseForEncrypted(scope, messageId, 'reacted to');
      return featureFor(scope, messageId).react(messageId, emojis);
    },
    'messages.retract': ({ messageId }, scope) => featureFor(scope, messageId).retract(messageId),
  },
};
