// Catching up from our server archive (XEP-0313) on every connect: page forward from the
// last archive id we hold until the server says complete. Each page and the cursor after it
// commit in one transaction, so an interrupted catch-up resumes without gaps or doubles.
import { randomUUID } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { MessageView } from '../../../preload/contract';
import type { Archive, MamState, StoreResult } from '../archive/archive';
import type { Session } from '../xmpp/session';
import { bounceOutcome, type Decryptor } from '../xmpp/chat';
import { NS_MAM, isMamResult, mamQuery, parseFinResult, parseMamResult, type MamFin, type MamPageRequest } from '../xmpp/mam';
import type { Feature, FeatureContext, FeatureModule, Log } from './feature';
import { chatModule } from './chat';
import { ArchiveOrder } from './ordering';
import { applyDisplayed } from './markers';
import { applyRelationEvent } from './relations';
import { mayHearFromUs, withStranger } from './audience';
import { LateReceipts, type OwedReceipt } from './receipts';

const PAGE_SIZE = 250;
/** On a first connect we show recent history, not the whole archive. */
const FIRST_CONNECT_PAGE = 50;
/**
 * How far a first connect reads back, at most, for the messages offline storage handed us
 * (pages of PAGE_SIZE): what lies beyond is stored at our server's time instead.
 */
const MAX_READ_BACK_PAGES = 10;
const QUERY_TIMEOUT_MS = 60_000;

export type CatchUpOutcome = {
  stored: StoreResult[];
  updated: MessageView[];
  /** Receipts owed for messages that reached us only now, through the archive. */
  receipts: OwedReceipt[];
  /** Conversations whose unread count a read on another device lowered. */
  readElsewhere: Set<number>;
  /** Set when the server no longer holds messages after our last known one. */
  gapSince?: number;
  /**
   * A first connect: the time of the oldest message it read. Whatever offline storage hands
   * over that the catch-up did not read is older still (it was archived before the query).
   */
  readBackTo?: number;
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

  /** One page of our own archive, or of `archive` (a room's, XEP-0313 §4). */
  async page(session: Session, request: Omit<MamPageRequest, 'queryId'>, archive = this.ownBareJid): Promise<{ stanzas: Element[]; queryIds: Set<string>; fin: MamFin }> {
    const queryId = randomUUID();
    const stanzas: Element[] = [];
    this.inFlight.set(queryId, stanzas);
    try {
      // The answer is a <fin/>, not the <query/> we sent, so ask for the whole <iq/>.
      const to = archive === this.ownBareJid ? {} : { to: archive };
      const answer = await session.iqCaller.request(xml('iq', { type: 'set', ...to }, mamQuery({ ...request, queryId })), QUERY_TIMEOUT_MS);
      const fin = parseFinResult(answer, this.ownBareJid, archive);
      if ('kind' in fin) throw new Error(`rejected ${fin.reason}`);
      return { stanzas, queryIds: new Set([queryId]), fin };
    } finally {
      this.inFlight.delete(queryId);
    }
  }
}

export type Page = Awaited<ReturnType<MamCollector['page']>>;

export type CatchUpDeps = {
  archive: Archive;
  accountId: string;
  ownBareJid: string;
  collector: Pick<MamCollector, 'page'>;
  now: () => number;
  log: Log;
  /** Archive ids of messages offline storage handed us during this catch-up (not yet stored). */
  heldFromOffline: () => ReadonlySet<string>;
  /** Reads encrypted results; only where they are stored, so each is decrypted once. */
  decrypt?: Decryptor | undefined;
};

function isItemNotFound(error: unknown): boolean {
  return (error as { condition?: string }).condition === 'item-not-found';
}

/** Applies one page: messages stored once and in archive order, receipts and errors moved onto our messages, cursor saved. */
function applyPage(
  deps: CatchUpDeps,
  page: Page,
  previous: string | null,
  order: ArchiveOrder,
  acknowledge: boolean,
  outcome: CatchUpOutcome,
): void {
  const { stanzas, queryIds, fin } = page;
  const { archive, accountId, ownBareJid } = deps;
  archive.transaction(() => {
    let lastTs = archive.sync.getMamState(accountId, ownBareJid)?.lastTs ?? null;
    for (const stanza of stanzas) {
      const result = parseMamResult(stanza, { ownBareJid, now: deps.now(), queryIds, decrypt: deps.decrypt });
      if (result.kind === 'rejected') {
        deps.log('warn', `${ownBareJid}: rejected archive result: ${result.reason}`);
        continue;
      }
      const parsed = result.message;
      if (parsed.kind === 'chat') {
        const stored = archive.messages.store(accountId, withStranger(archive, accountId, { ...parsed.record, ts: order.place(parsed.record) }));
        // A correction applied to an earlier message: that message's time is no floor for what follows.
        if (stored.updated) outcome.updated.push(stored.message);
        else order.stored(parsed.record, stored.message.ts);
        lastTs = Math.max(lastTs ?? 0, stored.message.ts);
        outcome.stored.push(stored);
        const { messageId, peer } = parsed.record;
        if (stored.created && acknowledge && parsed.receiptRequested && messageId && mayHearFromUs(archive, accountId, peer)) {
          outcome.receipts.push({ to: parsed.replyTo, peer, messageId, ts: stored.message.ts });
        }
      } else if (parsed.kind === 'receipt') {
        outcome.updated.push(...archive.messages.deliverOutgoingUpTo(accountId, parsed.peer, parsed.messageId));
      } else if (parsed.kind === 'error') {
        const updated = advanceBounced(archive, accountId, parsed);
        if (updated) outcome.updated.push(updated);
      } else if (parsed.kind === 'displayed') {
        // In archive order, so the marker finds the messages it names already stored.
        const { read, conversation } = applyDisplayed(archive, accountId, parsed);
        for (const message of read) outcome.updated.push(message); // a marker may read thousands: no spread into arguments
        if (conversation) outcome.readElsewhere.add(conversation.id);
      } else if (parsed.kind === 'event') {
        const changed = applyRelationEvent(archive, accountId, parsed.event);
        if (changed) outcome.updated.push(changed);
      }
    }
    archive.sync.setMamState(accountId, ownBareJid, { lastStanzaId: fin.last ?? previous, lastTs, complete: fin.complete });
  });
}

/** The archive ids a page holds, from results that pass the origin checks. */
function archiveIds(deps: CatchUpDeps, page: Page): string[] {
  const ctx = { ownBareJid: deps.ownBareJid, now: deps.now(), queryIds: page.queryIds };
  return page.stanzas.flatMap((stanza) => {
    const result = parseMamResult(stanza, ctx);
    return result.kind === 'result' ? [result.archiveId] : [];
  });
}

/**
 * A first connect's reading of the archive, newest page first: the newest messages, and
 * further back until it holds every message offline storage handed us meanwhile (those are
 * older: without them, the chat would read the newest page, then the older ones after it).
 */
async function readRecent(deps: CatchUpDeps, session: Session): Promise<Page[]> {
  const pages = [await deps.collector.page(session, { max: FIRST_CONNECT_PAGE, before: true })];
  const read = new Set(archiveIds(deps, pages[0]!));
  for (let more = 0; more < MAX_READ_BACK_PAGES; more++) {
    const oldest = pages.at(-1)!.fin;
    if (oldest.complete || !oldest.first || [...deps.heldFromOffline()].every((id) => read.has(id))) break;
    const page = await deps.collector.page(session, { max: PAGE_SIZE, before: oldest.first });
    for (const id of archiveIds(deps, page)) read.add(id);
    pages.push(page);
  }
  return pages;
}

/** A bounce found in our own archive: the server that answered this query archives, so a full offline queue loses nothing. */
function advanceBounced(archive: Pick<Archive, 'messages'>, accountId: string, bounce: { peer: string; messageId: string; text: string; condition?: string }): MessageView | undefined {
  const state = bounceOutcome(bounce.condition, true);
  return archive.messages.advanceOutgoing(accountId, bounce.peer, bounce.messageId, state, state === 'failed' ? bounce.text : undefined);
}

export async function catchUp(deps: CatchUpDeps, session: Session): Promise<CatchUpOutcome> {
  const outcome: CatchUpOutcome = { stored: [], updated: [], receipts: [], readElsewhere: new Set() };
  const state = deps.archive.sync.getMamState(deps.accountId, deps.ownBareJid);
  if (!state) {
    // Oldest first, so that each is stored after what the archive put before it. Paging
    // backwards, a page's `last` is its newest message: continue forward from it next time.
    // An empty archive leaves no id, and next time we read it from its beginning.
    // History from before Heron was set up owes nobody a receipt.
    const order = new ArchiveOrder(0);
    for (const page of (await readRecent(deps, session)).reverse()) {
      applyPage(deps, { ...page, fin: { ...page.fin, complete: true } }, null, order, false, outcome);
    }
    for (const { message } of outcome.stored) outcome.readBackTo = Math.min(outcome.readBackTo ?? message.ts, message.ts);
    return outcome;
  }
  const order = new ArchiveOrder(state.lastTs ?? 0);
  const { gapSince } = await pageForward(deps.collector, session, deps.ownBareJid, state, deps.log, (page, after) =>
    applyPage(deps, page, after, order, true, outcome),
  );
  if (gapSince !== undefined) outcome.gapSince = gapSince;
  return outcome;
}

/**
 * Pages `archive` forward from where `state` left off until the server says complete, each
 * page applied (with its cursor) before the next is asked for. Returns `gapSince` when the
 * server no longer holds our last known message: it then gives what it has since that time.
 */
export async function pageForward(
  collector: Pick<MamCollector, 'page'>,
  session: Session,
  archive: string,
  state: Pick<MamState, 'lastStanzaId' | 'lastTs'>,
  log: Log,
  apply: (page: Page, after: string | null) => void,
): Promise<{ gapSince?: number }> {
  let after = state.lastStanzaId;
  let gapSince: number | undefined;
  for (;;) {
    let page;
    try {
      page = await collector.page(session, { max: PAGE_SIZE, ...(after ? { after } : {}) }, archive);
    } catch (error) {
      if (!isItemNotFound(error)) throw error;
      // The server dropped our last known message: take what it still has since then.
      gapSince = state.lastTs ?? 0;
      log('warn', `${archive}: archive no longer holds ${after}; history may have a gap`);
      page = await collector.page(session, { max: PAGE_SIZE, ...(state.lastTs ? { start: state.lastTs } : {}) }, archive);
    }
    apply(page, after);
    if (page.fin.complete || !page.fin.last || page.fin.last === after) return gapSince !== undefined ? { gapSince } : {};
    after = page.fin.last;
  }
}

/** Catch-up as an account feature: routes archive results, catches up once online. */
export class MamFeature implements Feature {
  /** Routes every archive result on the session, ours and the rooms' (features/muc.ts). */
  readonly collector: MamCollector;
  /** Set by a first connect's catch-up (see `CatchUpOutcome.readBackTo`). */
  readBackTo: number | undefined;
  constructor(
    private readonly ctx: FeatureContext,
    private readonly heldFromOffline: () => ReadonlySet<string>,
    /** Where the receipts this catch-up owes go; the chat feature answers them once it ends. */
    private readonly lateReceipts: LateReceipts = new LateReceipts(),
    private readonly decrypt?: Decryptor,
  ) {
    this.collector = new MamCollector(ctx.bare, ctx.log);
  }

  stanza(stanza: Element): boolean {
    return this.collector.take(stanza);
  }

  async ready(session: Session): Promise<void> {
    const { archive, accountId, bare, log, clock } = this.ctx;
    const deps = { archive, accountId, ownBareJid: bare, collector: this.collector, now: clock.now, log, heldFromOffline: this.heldFromOffline, decrypt: this.decrypt };
    this.readBackTo = undefined;
    const outcome = await catchUp(deps, session);
    this.readBackTo = outcome.readBackTo;
    log('info', `${bare}: caught up from the server archive: ${outcome.stored.filter((s) => s.created).length} new messages`);
    this.announce(outcome);
    if (outcome.gapSince !== undefined) this.noteGap(outcome);
    // Not one per caught-up message now: the chat feature sends what senders can still use (receipts.ts).
    this.lateReceipts.add(outcome.receipts);
  }

  /** Says in each affected conversation which stretch of history the server no longer keeps. */
  private noteGap(outcome: CatchUpOutcome): void {
    // The oldest message the server still had is where the missing stretch ends.
    // A loop, not Math.min(...kept): spreading a catch-up's worth of arguments overflows the stack.
    let until = this.ctx.clock.now();
    for (const { message, created } of outcome.stored) if (created && message.ts < until) until = message.ts;
    for (const notice of this.ctx.archive.messages.addGapNotices(this.ctx.accountId, outcome.gapSince!, until)) this.ctx.emit('message.added', notice);
  }

  /** Tells the window what a catch-up stored, after it is committed. */
  private announce(outcome: CatchUpOutcome): void {
    const conversations = new Set(outcome.readElsewhere);
    for (const { message, conversation, created } of outcome.stored) {
      if (!created) continue;
      this.ctx.emit('message.added', message);
      conversations.add(conversation.id);
    }
    // An edit or a deletion may change a chat's preview.
    for (const message of outcome.updated) if (message.editedAt !== undefined || message.retractedAt !== undefined) conversations.add(message.conversationId);
    for (const id of conversations) this.ctx.emit('conversation.changed', this.ctx.archive.conversations.get(id));
    for (const message of outcome.updated) this.ctx.emit('message.updated', message);
  }
}

export const mamModule: FeatureModule<MamFeature> = {
  name: 'mam',
  create: (ctx, account) => {
    // The catch-up owes its receipts to the chat feature, which answers them once it ends.
    const chat = account.use(chatModule);
    return new MamFeature(ctx, () => chat.heldFromOffline(), chat.lateReceipts, chat.encryption?.decrypt);
  },
  events: ['message.added', 'message.updated', 'conversation.changed'],
};
