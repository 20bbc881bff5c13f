// Seeds a data directory with a long chat for the window's tests and benchmark: one account
// (disabled, so the host needs no server or password) and a conversation of `messages`
// messages through the real Archive, with a few hostile and styled bodies among the latest.
// The host is then started on that directory and shows the chat as any archived chat.
import fs from 'node:fs';
import path from 'node:path';
import { Archive, type MessageRecord } from '../../main/core/archive/archive';
import { openArchive } from '../../main/core/archive/recovery';
import { ARCHIVE_FILE } from '../../main/core/core';
import { makeCorpus, prng, uuid } from '../../bench/corpus';

export const SEEDED_ACCOUNT = { id: '00000000-0000-4000-8000-0000000000aa', jid: 'reader@heron.example' };
export const SEEDED_PEER = 'friend@heron.example';
/** A second, short chat: somewhere to switch to and back. */
export const OTHER_PEER = 'neighbour@heron.example';

/** 500 combining marks on one letter: paints far above its line unless its bubble clips it. */
export const COMBINING_BODY = 'Z' + '\u0301\u0308\u0323'.repeat(167);
export const LONG_BODY = Array.from({ length: 10_000 }, (_, i) => `line ${i + 1} of a very long message`).join('\n');
export const STYLED_BODY = 'Styling: *strong*, _emphasis_, ~strike~ and `code`, a link https://heron.example/docs and\n> a quote';
export const ACTION_BODY = '/me waves from the archive';

const WORDS = 'the you to and it of that is in for on have be with this are not we was but so at what just can do will if get all about know like me my your they out up no yes ok okay now time good think see today tomorrow meeting call later thanks great sure lunch dinner coffee'.split(' ');
const PER_DAY = 160;
const BATCH = 1000;

export type SeededChat = { conversationId: number; total: number; latestId: number; file: string };

/**
 * Seeds `dataDir` with the chat (its last rows: the special bodies, then a few plain ones) and,
 * with `otherMessages`, that many more in 1,000 other conversations (the benchmark's archive).
 */
export function seedChatArchive(dataDir: string, options: { messages: number; otherMessages?: number; now?: number }): SeededChat {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, ARCHIVE_FILE);
  const opened = openArchive(file);
  const archive = new Archive(opened.db);
  try {
    archive.accounts.insert({ id: SEEDED_ACCOUNT.id, jid: SEEDED_ACCOUNT.jid, host: null, port: null, resource: 'seed', enabled: false });
    archive.roster.upsert(SEEDED_ACCOUNT.id, { jid: SEEDED_PEER, name: 'Friend', subscription: 'both', groups: [] });
    const random = prng(12);
    const total = options.messages;
    const now = options.now ?? Date.now();
    const step = 86_400_000 / PER_DAY;
    const first = now - total * step;
    const special = [COMBINING_BODY, LONG_BODY, ACTION_BODY, STYLED_BODY];
    let batch: MessageRecord[] = [];
    for (let n = 0; n < total; n++) {
      const fromEnd = total - n;
      const body =
        fromEnd > 3 && fromEnd <= 3 + special.length
          ? special[fromEnd - 4]!
          : `${n + 1}: ${Array.from({ length: 2 + Math.floor(random() * 14) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ')}`;
      const out = random() < 0.45;
      const id = uuid(random);
      batch.push({
        peer: SEEDED_PEER,
        direction: out ? 'out' : 'in',
        sender: out ? SEEDED_ACCOUNT.jid : SEEDED_PEER,
        messageId: id,
        originId: id,
        stanzaId: { id: uuid(random), by: SEEDED_ACCOUNT.jid },
        body,
        ts: Math.floor(first + n * step + random() * step * 0.5),
        state: out ? 'read' : 'received',
      });
      if (batch.length === BATCH) {
        archive.messages.storeBatch(SEEDED_ACCOUNT.id, batch);
        batch = [];
      }
    }
    if (batch.length) archive.messages.storeBatch(SEEDED_ACCOUNT.id, batch);
    if (options.otherMessages) {
      // The rest of a big archive: the archive bench's corpus, filed under the same account.
      for (const { records } of makeCorpus(options.otherMessages).batches(BATCH)) archive.messages.storeBatch(SEEDED_ACCOUNT.id, records);
    }
    archive.roster.upsert(SEEDED_ACCOUNT.id, { jid: OTHER_PEER, name: 'Neighbour', subscription: 'both', groups: [] });
    archive.messages.storeBatch(
      SEEDED_ACCOUNT.id,
      ['Are you in?', 'Yes, come over'].map((body, n) => ({ peer: OTHER_PEER, direction: n ? 'out' : 'in', sender: n ? SEEDED_ACCOUNT.jid : OTHER_PEER, messageId: `other-${n}`, body, ts: now - 3_600_000 + n, state: n ? 'read' : 'received' })),
    );
    const conversation = archive.conversations.open(SEEDED_ACCOUNT.id, SEEDED_PEER);
    archive.conversations.markRead(conversation.id);
    const latest = archive.messages.pageBefore(conversation.id, undefined, 1).messages[0]!;
    return { conversationId: conversation.id, total, latestId: latest.id, file };
  } finally {
    archive.close();
  }
}
