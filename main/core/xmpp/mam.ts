// Message Archive Management (XEP-0313, urn:xmpp:mam:2) with result set paging (XEP-0059):
// build queries, and parse results with origin checks: a result counts only when it comes
// from the archive we asked (our own bare JID) and carries the query id we sent.
import xml, { type Element } from '@xmpp/xml';
import { parseArchivedMessage, type ChatContext, type ParsedMessage } from './chat';

export const NS_MAM = 'urn:xmpp:mam:2';
const NS_RSM = 'http://jabber.org/protocol/rsm';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_DATA = 'jabber:x:data';

export type MamPageRequest = {
  queryId: string;
  max: number;
  /** Page forward after this archive id. */
  after?: string;
  /** Page backward from the newest (true) or from before this archive id. */
  before?: string | true;
  /** Only messages at or after this time (ms). */
  start?: number;
};

export function mamQuery(request: MamPageRequest): Element {
  const fields = [xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM))];
  if (request.start !== undefined) fields.push(xml('field', { var: 'start' }, xml('value', {}, new Date(request.start).toISOString())));
  const before = request.before === true ? xml('before') : request.before !== undefined ? xml('before', {}, request.before) : null;
  return xml(
    'query',
    { xmlns: NS_MAM, queryid: request.queryId },
    xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields),
    xml('set', { xmlns: NS_RSM }, xml('max', {}, String(request.max)), request.after ? xml('after', {}, request.after) : null, before),
  );
}

export type MamResult =
  | { kind: 'result'; queryId: string; archiveId: string; message: ParsedMessage }
  | { kind: 'rejected'; reason: string };

/** True for a `<message/>` that wraps a MAM result, whoever sent it. */
export function isMamResult(stanza: Element): boolean {
  return Boolean(stanza.getChild('result', NS_MAM));
}

/** Parses one result of a query to our own archive. */
export function parseMamResult(stanza: Element, ctx: ChatContext & { queryIds: ReadonlySet<string> }): MamResult {
  const from = stanza.attrs.from;
  if (from !== undefined && from !== ctx.ownBareJid) return { kind: 'rejected', reason: `archive result from ${from}` };
  const result = stanza.getChild('result', NS_MAM)!;
  const queryId = result.attrs.queryid ?? '';
  if (!ctx.queryIds.has(queryId)) return { kind: 'rejected', reason: `result for a query we did not send (${queryId})` };
  const archiveId = result.attrs.id;
  const forwarded = result.getChild('forwarded', NS_FORWARD);
  const inner = forwarded?.getChild('message');
  if (!archiveId || !forwarded || !inner) return { kind: 'rejected', reason: 'archive result without id or message' };
  // The forwarded wrapper's delay is the archive's own stamp (XEP-0313 §5.1.2).
  const stamp = Date.parse(forwarded.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp ?? '');
  return { kind: 'result', queryId, archiveId, message: parseArchivedMessage(inner, ctx, { id: archiveId, by: ctx.ownBareJid }, stamp) };
}

export type MamFin = { complete: boolean; first?: string; last?: string; count?: number };

/**
 * The iq result that ends a query of our own archive: it counts only from the archive we
 * asked, i.e. without `from` (our server answering for our account) or from exactly our
 * bare JID. Anyone else naming our query's id is lying about where our history ends.
 */
export function parseFinResult(iq: Element, ownBareJid: string, archiveJid = ownBareJid): MamFin | { kind: 'rejected'; reason: string } {
  const from = iq.attrs.from;
  // Only our server answers for our own archive without naming itself; a room's archive names the room.
  if (from === undefined ? archiveJid !== ownBareJid : from !== archiveJid) return { kind: 'rejected', reason: `archive answer from ${from ?? 'our server'} for ${archiveJid}` };
  return parseFin(iq.getChild('fin', NS_MAM));
}

export function parseFin(fin: Element | undefined): MamFin {
  if (!fin?.is('fin', NS_MAM)) return { complete: true };
  const set = fin.getChild('set', NS_RSM);
  const first = set?.getChildText('first') ?? undefined;
  const last = set?.getChildText('last') ?? undefined;
  const count = Number(set?.getChildText('count'));
  return {
    complete: fin.attrs.complete === 'true',
    ...(first ? { first } : {}),
    ...(last ? { last } : {}),
    ...(Number.isFinite(count) && set?.getChild('count') ? { count } : {}),
  };
}
