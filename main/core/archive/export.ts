// Export of one conversation or of everything, as JSON Lines: one JSON object per line, in a
// file any text editor or `jq` can read (format described in the README). Written in slices
// so the main process keeps running, to a ".partial" file renamed only once complete.
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { AccountRecord, Archive, ExportedMessage } from './archive';
import type { ConversationView } from '../../../preload/contract';
import { nextSliceSize, yieldToEventLoop } from './slices';

export const EXPORT_FORMAT = 'heron-archive';
export const EXPORT_VERSION = 1;

const iso = (ms: number) => new Date(ms).toISOString();

/** One message as an export line: times in ISO 8601, absent fields left out. */
export function messageLine(m: ExportedMessage): Record<string, unknown> {
  // A notice that the server archive no longer holds part of the history, in its place.
  if (m.gap) return { type: 'gap', conversation: m.conversationId, id: m.id, from: iso(m.gap.from), to: iso(m.gap.to) };
  return {
    type: 'message',
    conversation: m.conversationId,
    id: m.id,
    time: iso(m.ts),
    receivedAt: iso(m.receivedAt),
    direction: m.direction,
    from: m.from,
    body: m.body,
    state: m.state,
    ...(m.error ? { error: m.error } : {}),
    ids: {
      ...(m.messageId ? { id: m.messageId } : {}),
      ...(m.originId ? { originId: m.originId } : {}),
      ...(m.stanzaId ? { stanzaId: m.stanzaId.id, stanzaIdBy: m.stanzaId.by } : {}),
      ...(m.occupantId ? { occupantId: m.occupantId } : {}),
    },
    ...(m.editedAt !== undefined ? { editedAt: iso(m.editedAt), originalBody: m.originalBody ?? '' } : {}),
    ...(m.corrections ? { corrections: m.corrections.map((c) => ({ time: iso(c.ts), body: c.body })) } : {}),
    ...(m.retractedAt !== undefined ? { retractedAt: iso(m.retractedAt) } : {}),
    ...(m.reactions ? { reactions: m.reactions } : {}),
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    ...(m.attachments ? { attachments: m.attachments } : {}),
  };
}

/**
 * Writes the export to `file` and resolves with the number of messages written. Only
 * `conversations` (and their accounts) are included.
 */
export async function exportArchive(
  archive: Archive,
  file: string,
  what: { accounts: AccountRecord[]; conversations: ConversationView[] },
  now = Date.now(),
): Promise<number> {
  const partial = `${file}.partial`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const out = fs.createWriteStream(partial, { encoding: 'utf8' });
  const write = async (line: Record<string, unknown>) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  let messages = 0;
  try {
    await write({ format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: iso(now) });
    const accountIds = new Set(what.conversations.map((c) => c.accountId));
    for (const account of what.accounts.filter((a) => accountIds.has(a.id))) {
      await write({ type: 'account', id: account.id, jid: account.jid });
    }
    for (const conversation of what.conversations) {
      await write({ type: 'conversation', id: conversation.id, account: conversation.accountId, peer: conversation.peer, kind: conversation.kind });
      for (let after = 0, size = 100; ; ) {
        const started = performance.now();
        const page = archive.messages.exportPage(conversation.id, after, size);
        const lines = page.map((message) => `${JSON.stringify(messageLine(message))}\n`).join('');
        const elapsed = performance.now() - started;
        if (lines && !out.write(lines)) await once(out, 'drain');
        messages += page.length;
        if (page.length < size) break;
        after = page.at(-1)!.id;
        size = nextSliceSize(size, elapsed);
        await yieldToEventLoop();
      }
    }
    await write({ type: 'end', messages });
    out.end();
    await once(out, 'finish');
    fs.renameSync(partial, file);
    return messages;
  } catch (error) {
    out.destroy();
    fs.rmSync(partial, { force: true });
    throw error;
  }
}
