// Who may learn more from us than a stranger (DESIGN §3, "strangers wait at the door"): a
// receipt (XEP-0184 §8), a displayed marker (XEP-0333) or our client version (XEP-0092) tells
// that this device is online and reading, which is presence. So only contacts who see our
// presence anyway (subscription from/both) or whom we wrote to first get them.
import type { Archive, MessageRecord } from '../archive/archive';

export function mayHearFromUs(archive: Pick<Archive, 'roster' | 'conversations'>, accountId: string, peer: string): boolean {
  const subscription = archive.roster.item(accountId, peer)?.subscription;
  return subscription === 'from' || subscription === 'both' || archive.conversations.wroteTo(accountId, peer);
}

/** Whether `peer` is in our roster at all; someone who is not starts in message requests. */
export function isContact(archive: Pick<Archive, 'roster'>, accountId: string, peer: string): boolean {
  return archive.roster.item(accountId, peer) !== undefined;
}

/** An incoming message record, flagged when its sender is not in the roster (see MessageRecord.stranger). */
export function withStranger(archive: Pick<Archive, 'roster'>, accountId: string, record: MessageRecord): MessageRecord {
  return record.direction === 'in' && !isContact(archive, accountId, record.peer) ? { ...record, stranger: true } : record;
}
