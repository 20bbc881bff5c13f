// Relations between one-to-one messages: corrections (XEP-0308), reactions (XEP-0444) and
// retractions (XEP-0424) the user makes, and those that arrive (parsed in xmpp/chat.ts, the
// events among them applied here). What we send is archive first: applied and stored pending,
// announced, then sent; the chat outbox resends what the server has not acknowledged, with the
// same id, after a cut or a restart. Replies are messages and go with chat's `send`.
// In an encrypted chat, or about an encrypted message, what carries words is encrypted like a
// message: a correction always, a reaction where OMEMO 2 can carry it (0.3 encrypts a body and
// nothing else, so there it is refused, never sent in clear); a retraction names an id and says
// nothing, and goes as it is.
import { randomUUID } from 'node:crypto';
import type { Element } from '@xmpp/xml';
import type { MessageView } from '../../../preload/contract';
import type { Archive, MessageEventRecord, MessageRefs, PendingEvent } from '../archive/archive';
import type { Session } from '../xmpp/session';
import { unacknowledged } from '../xmpp/xmppjs-adapter';
import { parseJid } from '../xmpp/jid';
import { RELATION_FEATURES, isEmoji, relationMessage } from '../xmpp/relations';
import { CommandFailure } from '../api';
import type { CommandScope, Feature, FeatureContext, FeatureModule } from './feature';
import { LEGACY_REACTIONS, omemoModule, type OmemoFeature } from './omemo';

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

/** Encryption as relations use it (the omemo feature). */
export type RelationEncryption = Pick<OmemoFeature, 'modeFor' | 'seal' | 'afterSealing'>;

export class RelationsFeature implements Feature {
  readonly discoFeatures = RELATION_FEATURES;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly encryption?: RelationEncryption,
  ) {}

  /** Ids of the relations written to a stream and not acknowledged yet (an encrypted one shows nothing of what it is). */
  private readonly unacked = new Set<string>();

  wire(session: Session): void {
    session.streamManagement.on('ack', (stanza: Element) => {
      const peer = parseJid(stanza.attrs.to)?.bare;
      const id = stanza.attrs.id as string | undefined;
      if (stanza.is('message') && id && peer && this.unacked.delete(id)) this.ctx.archive.messages.eventSent(this.ctx.accountId, peer, id);
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
    if (this.encryptionFor(target.peer, ref) === 'omemo') {
      throw new CommandFailure('refused', `Not sent: ${LEGACY_REACTIONS}.`, 'messageId');
    }
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

  /**
   * The encryption a relation carrying words gets: the chat's, else the one the message it
   * names had (the correction of a secret stays secret after the chat was switched off).
   */
  private encryptionFor(peer: string, target: string): 'omemo' | 'omemo2' | undefined {
    return this.encryption?.modeFor(peer) ?? this.ctx.archive.omemo.encryptionOf(this.ctx.accountId, peer, this.ctx.bare, target) ?? undefined;
  }

  private send(session: Session, event: PendingEvent): void {
    const plain = relationMessage(event);
    const encryption = event.kind === 'retraction' ? undefined : this.encryptionFor(event.peer, event.target);
    const write = (stanza: Element) => {
      this.unacked.add(event.id);
      return session.entity.send(stanza).then(
        () => {
          // Without stream management the write is the best confirmation we get.
          if (!session.streamManagement.enabled) this.ctx.archive.messages.eventSent(this.ctx.accountId, event.peer, event.id);
        },
        (error: Error) => this.ctx.log('warn', `send failed, will retry on reconnect: ${error.message}`),
      );
    };
    // A retraction does not overtake the correction or reaction still being sealed before it.
    if (!encryption) return void (this.encryption ? this.encryption.afterSealing(() => void write(plain)) : write(plain));
    // Never in clear: one that cannot be encrypted now stays pending and is tried again on the
    // next connect; one sealed after its stream dropped is the next stream's outbox's to send.
    const sealed = this.encryption ? this.encryption.seal(event.peer, plain) : Promise.reject(new Error('end-to-end encryption is not available'));
    sealed.then(
      (stanza) => void (this.ctx.liveSession() === session && write(stanza)),
      (error: Error) => {
        this.ctx.log('warn', `${this.ctx.bare}: ${event.kind} not sent, it could not be encrypted: ${error.message}`);
        if (event.kind !== 'retraction') this.ctx.emit('message.changeNotSent', { accountId: this.ctx.accountId, peer: event.peer, kind: event.kind, reason: error.message });
      },
    );
  }
}

/**
 * The relations feature of the account a message belongs to; a removed account says so. Rooms
 * are not sealed for here (their members are muc's): an encrypted room message is refused.
 */
function featureFor(scope: CommandScope, messageId: number): RelationsFeature {
  const { accountId, conversationId, peer } = scope.archive.messages.refs(messageId);
  const room = scope.archive.conversations.get(conversationId).kind === 'groupchat';
  if (room && (scope.archive.messages.get(messageId).encryption || scope.archive.omemo.conversationSetting(accountId, peer) === true)) {
    throw new CommandFailure('invalid-payload', 'A message in an encrypted room cannot be changed yet: the change would go out unencrypted.', 'messageId');
  }
  const account = scope.findAccount(accountId);
  if (!account) throw new CommandFailure('not-found', 'The account of this chat was removed. Add it again to change its messages.');
  return account.feature(relationsModule);
}

/** Edits, reactions and deletions for everyone; the chat outbox sends what waits of them. */
export const relationsModule: FeatureModule<RelationsFeature> = {
  name: 'relations',
  create: (ctx, account) => new RelationsFeature(ctx, account.use(omemoModule)),
  events: ['message.updated', 'conversation.changed', 'message.changeNotSent'],
  commands: {
    'messages.correct': ({ messageId, body }, scope) => featureFor(scope, messageId).correct(messageId, body),
    'messages.react': ({ messageId, emojis }, scope) => featureFor(scope, messageId).react(messageId, emojis),
    'messages.retract': ({ messageId }, scope) => featureFor(scope, messageId).retract(messageId),
  },
};
