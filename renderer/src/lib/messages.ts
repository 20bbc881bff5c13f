// Pure list logic for a chat's messages: order, de-duplication, state merging and paging.
import type { MessageState, MessageView, PageCursor } from '../../../preload/contract';

/** Archive order: by time, then by archive id (the same order the page cursor uses). */
export function compareMessages(a: MessageView, b: MessageView): number {
  return a.ts - b.ts || a.id - b.id;
}

// How far an outgoing message has come. A stale copy (a page fetched before an update
// arrived, or the result of `messages.send` racing its own `message.updated`) never
// moves a message backwards.
const progress: Record<MessageState, number> = {
  pending: 0,
  received: 0,
  failed: 1,
  sent: 2,
  archived: 3,
  delivered: 4,
  read: 5,
};

/**
 * Merges `incoming` into the sorted list `list` and returns a new sorted list.
 * `authoritative` copies (from `message.updated`) replace what is there; others only
 * replace a copy that is not further along.
 */
export function mergeMessages(
  list: readonly MessageView[],
  incoming: readonly MessageView[],
  authoritative = false,
): MessageView[] {
  if (incoming.length === 0) return list as MessageView[];
  const index = new Map<number, number>();
  list.forEach((m, i) => index.set(m.id, i));
  const next = list.slice();
  const added: MessageView[] = [];
  const newer = (m: MessageView, old: MessageView) => authoritative || progress[m.state] >= progress[old.state];
  for (const m of incoming) {
    const at = index.get(m.id);
    if (at === undefined) {
      index.set(m.id, -1 - added.length); // negative: a position in `added`
      added.push(m);
    } else if (at >= 0) {
      if (newer(m, next[at]!)) next[at] = m;
    } else if (newer(m, added[-1 - at]!)) {
      added[-1 - at] = m;
    }
  }
  if (added.length === 0) return next;
  const last = next[next.length - 1];
  // The common live case: one new message that belongs at the end.
  if (added.length === 1 && (!last || compareMessages(last, added[0]!) < 0)) {
    next.push(added[0]!);
    return next;
  }
  return next.concat(added).sort(compareMessages);
}

/** The cursor for the page before the oldest message we hold. */
export function cursorBefore(list: readonly MessageView[]): PageCursor | undefined {
  const oldest = list[0];
  return oldest ? { ts: oldest.ts, id: oldest.id } : undefined;
}

export const stateLabels: Record<MessageState, string> = {
  pending: 'Sending',
  sent: 'Sent',
  archived: 'Waiting for the archive: their server keeps it until they next connect',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
  received: 'Received',
};
