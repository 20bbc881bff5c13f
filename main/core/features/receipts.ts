// Which delivery receipts (XEP-0184) to answer for messages that reached us late, through
// offline storage or our archive. A receipt tells the sender "it reached a device of theirs";
// for a message sent long ago, or the hundredth of a backlog, that is news nobody waits for,
// and 5,000 of them after a catch-up queue (~756 kB) ahead of what the user sends next on a
// rate-limited server. A message received live is always answered (when the sender may hear
// from us at all: see audience.ts).

/** A late message is still worth a receipt when it was sent this recently. */
export const LATE_RECEIPT_WINDOW_MS = 10 * 60_000;
/** And of those, the newest few per sender: their client shows those, not the scrollback. */
export const LATE_RECEIPTS_PER_PEER = 5;

export type OwedReceipt = { to: string; peer: string; messageId: string; ts: number };

/**
 * The receipts worth sending, of those owed for messages that arrived late, given in the order
 * they arrived. "Newest" is the message's place in our archive (its time, then arrival, as a
 * server stamps whole seconds), not its place in that list: what offline storage hands over
 * again at login, long since stored, arrives last but is old news. A receipt for the newest
 * also tells the sender the earlier ones arrived (Archive.deliverOutgoingUpTo).
 */
export function usefulLateReceipts(owed: readonly OwedReceipt[], now: number): OwedReceipt[] {
  const newestFirst = owed
    .map((receipt, position) => ({ receipt, position }))
    .filter(({ receipt }) => receipt.ts >= now - LATE_RECEIPT_WINDOW_MS)
    .sort((a, b) => b.receipt.ts - a.receipt.ts || b.position - a.position);
  const perPeer = new Map<string, number>();
  const kept = new Set<number>();
  for (const { receipt, position } of newestFirst) {
    const n = perPeer.get(receipt.peer) ?? 0;
    perPeer.set(receipt.peer, n + 1);
    if (n < LATE_RECEIPTS_PER_PEER) kept.add(position);
  }
  return owed.filter((_, position) => kept.has(position));
}

/**
 * Receipts owed during one catch-up, from the archive pages and from what arrived meanwhile
 * (the offline flush, held by the chat feature): answered once, when it ends, each message at
 * most once however many ways it came in.
 */
export class LateReceipts {
  private owed: OwedReceipt[] = [];

  add(receipts: readonly OwedReceipt[]): void {
    this.owed.push(...receipts);
  }

  /** What is worth sending now (`send`), of how many messages owed one (`owed`); forgets everything owed. */
  take(now: number): { send: OwedReceipt[]; owed: number } {
    const seen = new Set<string>();
    const once = this.owed.filter((receipt) => {
      const key = `${receipt.peer} ${receipt.messageId}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    this.owed = [];
    return { send: usefulLateReceipts(once, now), owed: once.length };
  }
}
