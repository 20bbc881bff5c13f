// Keeps each sender's messages in the order the server handled them. Live messages are timed
// on arrival (ms); archived and offline ones carry the server's stamp, often whole seconds
// and from another clock. Mixed naively, a later message can sort before an earlier one.
import type { Archive, MessageRecord } from '../archive/archive';

const key = (record: MessageRecord) => `${record.peer}\n${record.sender}`;

/**
 * For live messages: after catch-up and initial presence, the server delivers in its own
 * order, so a message never goes before the newest one we hold from the same sender.
 */
export function placeLive(archive: Archive, accountId: string, record: MessageRecord): MessageRecord {
  const floor = archive.newestTsFrom(accountId, record.peer, record.sender) ?? 0;
  return record.ts >= floor ? record : { ...record, ts: floor };
}

/**
 * For a catch-up: pages come in archive order, and include the messages we already hold
 * since the last catch-up. Each new message goes after the one the archive put before it
 * (per sender), and after everything the previous catch-up ended with.
 */
export class ArchiveOrder {
  private readonly previous = new Map<string, number>();

  constructor(private readonly startFloor: number) {}

  /** The time to store a new record at. */
  place(record: MessageRecord): number {
    return Math.max(record.ts, this.previous.get(key(record)) ?? this.startFloor);
  }

  /** What was stored for a record (new or already held) becomes the floor for what follows. */
  stored(record: MessageRecord, ts: number): void {
    this.previous.set(key(record), ts);
  }
}
