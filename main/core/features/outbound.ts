// Two lanes out of one session: what the user sends goes to the socket at once; bulk traffic
// (receipts owed after a catch-up) waits its turn, at most BULK_IN_FLIGHT of it unacknowledged
// by the server at a time (XEP-0198). A server that paces its clients (ejabberd's c2s shaper)
// reads what we wrote in order, so a user's message queues behind at most that much bulk,
// never behind all of it. Without stream management there is nothing to pace on: bulk goes as
// it comes.
import type { Element } from '@xmpp/xml';
import type { Session } from '../xmpp/session';

export const BULK_IN_FLIGHT = 8;

export class BulkLane {
  private readonly waiting: Element[] = [];
  /** Bulk stanzas written and not yet acknowledged. Counted here: the library queues a stanza for acks only after an asynchronous hop. */
  private readonly unacked = new Set<Element>();

  constructor(
    private readonly session: Session,
    private readonly inFlight = BULK_IN_FLIGHT,
  ) {
    session.streamManagement.on('ack', (stanza: Element) => {
      if (this.unacked.delete(stanza)) this.pump();
    });
  }

  send(stanza: Element): void {
    this.waiting.push(stanza);
    this.pump();
  }

  /**
   * The stream dropped: what waits here, and what was written but not acknowledged, is handed
   * back to be owed on the next stream (a receipt lost on the way leaves a message "sent" for good).
   */
  takeLeftovers(): Element[] {
    const leftovers = [...this.unacked, ...this.waiting];
    this.unacked.clear();
    this.waiting.length = 0;
    return leftovers;
  }

  private pump(): void {
    const paced = this.session.streamManagement.enabled;
    while (this.waiting.length > 0 && (!paced || this.unacked.size < this.inFlight)) {
      const stanza = this.waiting.shift()!;
      if (paced) this.unacked.add(stanza);
      // A write that fails means the stream dropped: `takeLeftovers` hands the stanza back.
      this.session.entity.send(stanza).catch(() => {});
    }
  }
}
