// Keeps messages in the order the server handled them. Live messages are timed on arrival
// (ms); archived and offline ones carry the server's stamp, often whole seconds and from
// another clock. Mixed naively, a later message can sort before an earlier one.
import type { Archive, MessageRecord } from '../archive/archive';

const key = (record: MessageRecord) => `${record.peer}\n${record.sender}`;

/**
 * For messages that reach us directly: never before what the conversation already holds.
 * After a catch-up, archived messages carry the server's clock, which may run ahead of ours;
 * and offline storage stamps whole seconds, so a message it kept would sort before the ones
 * that arrived live earlier in the same second. Only a first connect's reading of the backlog
 * (`keepServerTime`, see ChatFeature.release) places offline messages among older history.
 */
export function placeLive(archive: Pick<Archive, 'conversations'>, accountId: string, record: MessageRecord, keepServerTime = false): MessageRecord {
  if (keepServerTime) return record;
  const floor = archive.conversations.newestTs(accountId, record.peer) ?? 0;
  return record.ts >= floor ? record : { ...record, ts: floor };
}

/**
 * For a catch-up: pages come in archive order, and include the messages we already hold
 * since the last catch-up. Each new message goes after the one the archive put before it
 * (per sender), and after everything the previous catch-up ended with.
 */
export class ArchiveOrder {
  private readonly previous = new Map<string, number>();

  constructor(
    private readonly startFloor: number,
    /** Whose messages keep their order among themselves: per sender, or (a room's archive, one order for all) per conversation. */
    private readonly keyOf: (record: MessageRecord) => string = key,
  ) {}

  /** The time to store a new record at. */
  place(record: MessageRecord): number {
    // A message already held sets `previous` to its own (earlier) time: still never before the floor.
    return Math.max(record.ts, this.previous.get(this.keyOf(record)) ?? 0, this.startFloor);
  }

  /** What was stored for a record (new or already held) becomes the floor for what follows. */
  stored(record: MessageRecord, ts: number): void {
    this.previous.set(this.keyOf(record), ts);
  }
}
