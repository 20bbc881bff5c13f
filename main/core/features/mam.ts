// Catching up from our server archive (XEP-0313) on every connect: page forward from the
// last archive id we hold until the server says complete. Each page and the cursor after it
// commit in one transaction, so an interrupted catch-up resumes without gaps or doubles.
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { MessageView } from '../../../preload/contract';
import type { Archive, MessageRecord, StoreResult } from '../archive/archive';
import type { Session } from '../xmpp/session';
import { NS_MAM, isMamResult, mamQuery, parseFin, parseMamResult, type MamFin, type MamPageRequest } from '../xmpp/mam';
import type { Feature, FeatureContext, Log } from './feature';

const PAGE_SIZE = 250;
/** On a first connect we show recent history, not the whole archive. */
const FIRST_CONNECT_PAGE = 50;
const QUERY_TIMEOUT_MS = 60_000;

export type CatchUpOutcome = {
  stored: StoreResult[];
  updated: MessageView[];
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

/** Applies one page: messages stored once, receipts and errors moved onto our messages, cursor saved. */
function applyPage(deps: CatchUpDeps, stanzas: Element[], queryIds: Set<string>, fin: MamFin, previous: string | null, outcome: CatchUpOutcome): void {
  const { archive, accountId, ownBareJid } = deps;
  const records: MessageRecord[] = [];
  const receipts: Array<{ peer: string; messageId: string; state: 'delivered' | 'failed'; error?: string }> = [];
  let lastTs: number | null = null;
  for (const stanza of stanzas) {
    const result = parseMamResult(stanza, { ownBareJid, now: deps.now(), queryIds });
    if (result.kind === 'rejected') {
      deps.log('warn', `${ownBareJid}: rejected archive result: ${result.reason}`);
      continue;
    }
    const parsed = result.message;
    if (parsed.kind === 'chat') {
      records.push(parsed.record);
      lastTs = Math.max(lastTs ?? 0, parsed.record.ts);
    } else if (parsed.kind === 'receipt') receipts.push({ peer: parsed.peer, messageId: parsed.messageId, state: 'delivered' });
    else if (parsed.kind === 'error') receipts.push({ peer: parsed.peer, messageId: parsed.messageId, state: 'failed', error: parsed.text });
  }
  archive.transaction(() => {
    outcome.stored.push(...archive.storeMessages(accountId, records));
    for (const r of receipts) {
      const updated = archive.advanceOutgoing(accountId, r.peer, r.messageId, r.state, r.error);
      if (updated) outcome.updated.push(updated);
    }
    const state = archive.getMamState(accountId, ownBareJid);
    archive.setMamState(accountId, ownBareJid, {
      lastStanzaId: fin.last ?? previous,
      lastTs: lastTs ?? state?.lastTs ?? null,
      complete: fin.complete,
    });
  });
}

export async function catchUp(deps: CatchUpDeps, session: Session): Promise<CatchUpOutcome> {
  const outcome: CatchUpOutcome = { stored: [], updated: [] };
  const state = deps.archive.getMamState(deps.accountId, deps.ownBareJid);
  if (!state) {
    const { stanzas, queryIds, fin } = await deps.collector.page(session, { max: FIRST_CONNECT_PAGE, before: true });
    // Paging backwards, `last` is the newest message: continue forward from it next time.
    // An empty archive leaves no id, and next time we read it from its beginning.
    applyPage(deps, stanzas, queryIds, { ...fin, complete: true }, null, outcome);
    return outcome;
  }
  let after = state.lastStanzaId;
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
    applyPage(deps, page.stanzas, page.queryIds, page.fin, after, outcome);
    if (page.fin.complete || !page.fin.last || page.fin.last === after) return outcome;
    after = page.fin.last;
  }
}

/** Catch-up as an account feature: routes archive results, catches up once online. */
export class MamFeature implements Feature {
  private readonly collector: MamCollector;
  /** Once this session has caught up, live archive ids move the catch-up cursor on. */
  private caughtUp = false;

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
    this.caughtUp = this.ctx.liveSession() === session;
  }

  /** A live message our archive stamped: after a complete catch-up it is the new cursor. */
  noteLive(record: MessageRecord): void {
    if (!this.caughtUp || !record.stanzaId) return;
    this.ctx.archive.setMamState(this.ctx.accountId, this.ctx.bare, { lastStanzaId: record.stanzaId.id, lastTs: record.ts, complete: true });
  }

  offline(): void {
    this.caughtUp = false;
  }

  /** Tells the window what a catch-up stored, after it is committed. */
  private announce(outcome: CatchUpOutcome): void {
    const conversations = new Set<number>();
    for (const { message, conversation, created } of outcome.stored) {
      if (!created) continue;
      this.ctx.emit('message.added', message);
      conversations.add(conversation.id);
    }
    for (const id of conversations) this.ctx.emit('conversation.changed', this.ctx.archive.getConversation(id));
    for (const message of outcome.updated) this.ctx.emit('message.updated', message);
  }
}
