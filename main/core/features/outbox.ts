// The outbox's first step (DESIGN §3), shared by one-to-one chats and rooms: a new outgoing
// message is stored as pending, with fresh ids, before the window hears of it or it is sent.
import { randomUUID } from 'node:crypto';
import type { MessageView } from '../../../preload/contract';
import type { MessageRecord } from '../archive/archive';
import type { FeatureContext } from './feature';

/** What a message adds to the pending record: a reply, its encryption, our occupant-id in a room. */
export type PendingExtras = Pick<MessageRecord, 'replyTo' | 'encryption' | 'occupantId'>;

/** Stores my message to `peer` as pending and announces it; the id is both its id and its origin-id. */
export function storePending(
  ctx: Pick<FeatureContext, 'archive' | 'accountId' | 'bare' | 'clock' | 'emit'>,
  peer: string,
  body: string,
  extras: PendingExtras = {},
): MessageView & { messageId: string } {
  const messageId = randomUUID();
  const { message, conversation } = ctx.archive.messages.store(ctx.accountId, {
    peer,
    direction: 'out',
    sender: ctx.bare,
    messageId,
    originId: messageId,
    body,
    ts: ctx.clock.now(),
    state: 'pending',
    ...extras,
  });
  ctx.emit('message.added', message);
  ctx.emit('conversation.changed', conversation);
  return { ...message, messageId };
}
