// Catching up from our server archive (XEP-0313) on every connect: page forward from the
// last archive id we hold until the server says complete. Each page and the cursor after it
// commit in one transaction, so an interrupted catch-up resumes without gaps or doubles.
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { MessageView } from '../../../preload/contract';
import type { Archive, StoreResult } from '../archive/archive';
import type { Session } from '../xmpp/session';
import { receiptFor } from '../xmpp/chat';
import { NS_MAM, isMamResult, mamQuery, parseFin, parseMamResult, type MamFin, type MamPageRequest } from '../xmpp/mam';
import type { Feature, FeatureContext, Log } from './feature';
import { ArchiveOrder } from './ordering';
import { applyDisplayed } from './markers';

const PAGE_SIZE = 250;
/** On a first connect we show recent history, not the whole archive. */
const FIRST_CONNECT_PAGE = 50;
const QUERY_TIMEOUT_MS = 60_000;

export type CatchUpOutcome = {
  stored: StoreResult[];
  updated: MessageView[];
  /** Receipts owed for messages that reached us only now, through the archive. */
  receipts: Array<{ to: string; messageId: string }>;
  /** Conversations whose unread count a read on another device lowered. */
  readElsewhere: Set<number>;
  /** Set when the server no longer holds messages after our last known one. */
  gapSince?: number;
};

/** Routes MAM results of the queries in flight on one session to their query. */
export class MamCollector {
  private readonly inFlight = new Map<string, Element[]>();

  constructor(
    private readonly ownBareJid: string,
    private readonly log: Log,
  ) {}

  /** Takes the stanza if it is a MAM result; drops results of queries we have not sent. */
  take(stanza: Element): boolean {
    if (!stanza.is('message') || !isMamResult(stanza)) return false;
    const queryId = stanza.getChild('result', NS_MAM)?.attrs.queryid ?? '';
    const bucket = this.inFlight.get(queryId);
    if (bucket) bucket.push(stanza); // the sender is checked when the page is parsed
    else this.log('warn', `${this.ownBareJid}: dropped an archive result for no query of ours (${queryId})`);
    return true;
  }

  async page(session: Session, request: Omit<MamPageRequest, 'queryId'>): Promise<{ stanzas: Element[]; queryIds: Set<string>; fin: MamFin }> {
    const queryId = randomUUID();
    const stanzas: Element[] = [];
    this.inFlight.set(queryId, stanzas);
    try {
      // The answer is a <fin/>, not the <query/> we sent, so ask for the whole <iq/>.
      const answer = await session.iqCaller.request(xml('iq', { type: 'set' }, mamQuery({ ...request, queryId })), QUERY_TIMEOUT_MS);
      return { stanzas, queryIds: new Set([queryId]), fin: parseFin(answer.getChild('fin', NS_MAM)) };
    } finally {
      this.inFlight.delete(queryId);
    }
  }
}

export type CatchUpDeps = {
  archive: Archive;
  accountId: string;
  ownBareJid: string;
  collector: MamCollector;
  now: () => number;
  log: Log;
};

function isItemNotFound(error: unknown): boolean {
  return (error as { condition?: string }).condition === 'item-not-found';
}

/** Applies one page: messages stored once and in archive order, receipts and errors moved onto our messages, cursor saved. */
function applyPage(
  deps: CatchUpDeps,
  page: { stanzas: Element[]; queryIds: Set<string>; fin: MamFin },
  previous: string | null,
  order: ArchiveOrder,
  acknowledge: boolean,
  outcome: CatchUpOutcome,
): void {
  const { stanzas, queryIds, fin } = page;
  const { archive, accountId, ownBareJid } = deps;
  archive.transaction(() => {
    let lastTs = archive.getMamState(accountId, ownBareJid)?.lastTs ?? null;
    for (const stanza of stanzas) {
      const result = parseMamResult(stanza, { ownBareJid, now: deps.now(), queryIds });
      if (result.kind === 'rejected') {
        deps.log('warn', `${ownBareJid}: rejected archive result: ${result.reason}`);
        continue;
      }
      const parsed = result.message;
      if (parsed.kind === 'chat') {
        const stored = archive.storeMessage(accountId, { ...parsed.record, ts: order.place(parsed.record) });
        order.stored(parsed.record, stored.message.ts);
        lastTs = Math.max(lastTs ?? 0, stored.message.ts);
        outcome.stored.push(stored);
        if (stored.created && acknowledge && parsed.receiptRequested && parsed.record.messageId) {
          outcome.receipts.push({ to: parsed.replyTo, messageId: parsed.record.messageId });
        }
      } else if (parsed.kind === 'receipt' || parsed.kind === 'error') {
        const updated = parsed.kind === 'receipt'
          ? archive.advanceOutgoing(accountId, parsed.peer, parsed.messageId, 'delivered')
          : archive.advanceOutgoing(accountId, parsed.peer, parsed.messageId, 'failed', parsed.text);
        if (updated) outcome.updated.push(updated);
      } else if (parsed.kind === 'displayed') {
        // In archive order, so the marker finds the messages it names already stored.
        const { read, conversation } = applyDisplayed(archive, accountId, parsed);
        outcome.updated.push(...read);
        if (conversation) outcome.readElsewhere.add(conversation.id);
      }
    }
    archive.setMamState(accountId, ownBareJid, { lastStanzaId: fin.last ?? previous, lastTs, complete: fin.complete });
  });
}

export async function catchUp(deps: CatchUpDeps, session: Session): Promise<CatchUpOutcome> {
  const outcome: CatchUpOutcome = { stored: [], updated: [], receipts: [], readElsewhere: new Set() };
  const state = deps.archive.getMamState(deps.accountId, deps.ownBareJid);
  if (!state) {
    const page = await deps.collector.page(session, { max: FIRST_CONNECT_PAGE, before: true });
    // Paging backwards, `last` is the newest message: continue forward from it next time.
    // An empty archive leaves no id, and next time we read it from its beginning.
    // History from before Heron was set up owes nobody a receipt.
    applyPage(deps, { ...page, fin: { ...page.fin, complete: true } }, null, new ArchiveOrder(0), false, outcome);
    return outcome;
  }
  let after = state.lastStanzaId;
  const order = new ArchiveOrder(state.lastTs ?? 0);
  for (;;) {
    let page;
    try {
      page = await deps.collector.page(session, { max: PAGE_SIZE, ...(after ? { after } : {}) });
    } catch (error) {
      if (!isItemNotFound(error)) throw error;
      // The server dropped our last known message: take what it still has since then.
      outcome.gapSince = state.lastTs ?? 0;
      deps.log('warn', `${deps.ownBareJid}: archive no longer holds ${after}; history may have a gap`);
      page = await deps.collector.page(session, { max: PAGE_SIZE, ...(state.lastTs ? { start: state.lastTs } : {}) });
    }
    applyPage(deps, page, after, order, true, outcome);
    if (page.fin.complete || !page.fin.last || page.fin.last === after) return outcome;
    after = page.fin.last;
  }
}

/** Catch-up as an account feature: routes archive results, catches up once online. */
export class MamFeature implements Feature {
  private readonly collector: MamCollector;
  constructor(private readonly ctx: FeatureContext) {
    this.collector = new MamCollector(ctx.bare, ctx.log);
  }

  stanza(stanza: Element): boolean {
    return this.collector.take(stanza);
  }

  async ready(session: Session): Promise<void> {
    const { archive, accountId, bare, log, clock } = this.ctx;
    const outcome = await catchUp({ archive, accountId, ownBareJid: bare, collector: this.collector, now: clock.now, log }, session);
    log('info', `${bare}: caught up from the server archive: ${outcome.stored.filter((s) => s.created).length} new messages`);
    this.announce(outcome);
    if (outcome.gapSince !== undefined) this.noteGap(outcome);
    for (const { to, messageId } of outcome.receipts) await session.entity.send(receiptFor(to, messageId));
  }

  /** Says in each affected conversation which stretch of history the server no longer keeps. */
  private noteGap(outcome: CatchUpOutcome): void {
    // The oldest message the server still had is where the missing stretch ends.
    const kept = outcome.stored.filter((s) => s.created).map(({ message }) => message.ts);
    const until = kept.length > 0 ? Math.min(...kept) : this.ctx.clock.now();
    for (const notice of this.ctx.archive.addGapNotices(this.ctx.accountId, outcome.gapSince!, until)) this.ctx.emit('message.added', notice);
  }

  /** Tells the window what a catch-up stored, after it is committed. */
  private announce(outcome: CatchUpOutcome): void {
    const conversations = new Set(outcome.readElsewhere);
    for (const { message, conversation, created } of outcome.stored) {
      if (!created) continue;
      this.ctx.emit('message.added', message);
      conversations.add(conversation.id);
    }
    for (const id of conversations) this.ctx.emit('conversation.changed', this.ctx.archive.getConversation(id));
    for (const message of outcome.updated) this.ctx.emit('message.updated', message);
  }
}
