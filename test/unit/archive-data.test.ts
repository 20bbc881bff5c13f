import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive, NotFoundError } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';
import { EXPORT_FORMAT, exportArchive } from '../../main/core/archive/export';
import { nextSliceSize } from '../../main/core/archive/slices';
import { ACCOUNT, ALSO_ME, ME, OTHER_ACCOUNT, PEER, T0, fromPeer, makeArchive, toPeer, type ArchiveFixture } from './archive-support';

/** Runs `sql` on a second connection to the archive file and returns the number it selects as n. */
function count(file: string, sql: string): number {
  const db = openDatabase(file);
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('archive data management', () => {
  let fx: ArchiveFixture;
  beforeEach(() => (fx = makeArchive()));
  afterEach(() => fx.close());

  function seed(): { peerConversation: number; otherConversation: number } {
    const { archive } = fx;
    const peer = archive.messages.storeBatch(ACCOUNT, Array.from({ length: 120 }, (_, i) => fromPeer(i + 1, { body: `pineapple ${i + 1}` })));
    archive.messages.storeEvent(ACCOUNT, { kind: 'reaction', peer: PEER, sender: ME, target: 'peer-1', emojis: ['🍍'], ts: T0, messageId: 'x' });
    const other = archive.messages.store(OTHER_ACCOUNT, { ...fromPeer(500, { body: 'pineapple at work' }), stanzaId: { id: 'w', by: ALSO_ME } });
    return { peerConversation: peer[0]!.conversation.id, otherConversation: other.conversation.id };
  }

  it('deletes a conversation: gone at once, purged in slices, search finds none of it', async () => {
    const { archive } = fx;
    const { peerConversation, otherConversation } = seed();
    // What OMEMO decrypted for this account, kept for copies of it: no longer after a deletion.
    archive.omemo.keepOpened(ACCOUNT, new Uint8Array(32), JSON.stringify({ body: 'pineapple, encrypted', encryption: 'omemo2' }), 1);
    archive.conversations.delete(peerConversation);
    expect(archive.conversations.list().map((c) => c.id)).toEqual([otherConversation]);
    expect(() => archive.conversations.get(peerConversation)).toThrow(NotFoundError);
    expect(archive.messages.search({ query: 'pineapple', limit: 10 }).hits.map((h) => h.message.body)).toEqual(['pineapple at work']);
    // Writing to the same peer meanwhile starts a new, empty conversation.
    const fresh = archive.conversations.open(ACCOUNT, PEER);
    expect(fresh.id).not.toBe(peerConversation);

    while (archive.purge.step(50));
    expect(count(fx.file, `SELECT count(*) AS n FROM messages WHERE conversation_id = ${peerConversation}`)).toBe(0);
    expect(count(fx.file, 'SELECT count(*) AS n FROM message_events')).toBe(0);
    expect(count(fx.file, 'SELECT count(*) AS n FROM omemo_opened')).toBe(0);
    // The index holds exactly what is left: FTS5 checks it against the messages themselves.
    expect(count(fx.file, "SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH 'pineapple'")).toBe(1);
    const db = openDatabase(fx.file);
    expect(() => db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    db.close();
    expect(archive.conversations.list().map((c) => c.id).sort()).toEqual([otherConversation, fresh.id].sort());
  });

  it('removes an account with its data and keeps the others', async () => {
    const { archive } = fx;
    const { otherConversation } = seed();
    archive.sync.setMamState(ACCOUNT, ME, { lastStanzaId: 'a', lastTs: 1, complete: true });
    archive.roster.replace(ACCOUNT, [{ jid: PEER, subscription: 'both', groups: [] }]);
    archive.accounts.remove(ACCOUNT);
    expect(archive.accounts.list().map((a) => a.id)).toEqual([OTHER_ACCOUNT]);
    expect(archive.conversations.list().map((c) => c.id)).toEqual([otherConversation]);
    expect(archive.roster.list(ACCOUNT)).toEqual([]);
    expect(archive.sync.getMamState(ACCOUNT, ME)).toBeNull();
    await archive.purge.run();
    expect(count(fx.file, `SELECT count(*) AS n FROM accounts WHERE id = '${ACCOUNT}'`)).toBe(0);
    expect(count(fx.file, 'SELECT count(*) AS n FROM messages')).toBe(1);
    expect(archive.messages.search({ query: 'pineapple', limit: 10 }).hits).toHaveLength(1);
  });

  it('finishes an interrupted deletion after a restart', async () => {
    const { archive, file } = fx;
    const { peerConversation } = seed();
    archive.conversations.delete(peerConversation);
    archive.purge.step(40); // then the app is closed
    archive.close();
    const reopened = new Archive(openDatabase(file));
    try {
      expect(reopened.conversations.list().some((c) => c.id === peerConversation)).toBe(false);
      await reopened.purge.run();
      expect(count(file, 'SELECT count(*) AS n FROM messages')).toBe(1);
      expect(count(file, 'SELECT count(*) AS n FROM conversations')).toBe(1);
    } finally {
      reopened.close();
    }
  });

  it('exports a conversation as readable JSON Lines with everything it holds', async () => {
    const { archive, dir } = fx;
    const mine = archive.messages.store(ACCOUNT, toPeer(1, { body: 'draft', replyTo: { id: 'peer-0' }, attachments: [{ url: 'https://x.example/a.png', mime: 'image/png' }] }));
    archive.messages.store(ACCOUNT, toPeer(2, { body: 'final', replaces: 'mine-1', messageId: 'fix', originId: 'fix' }));
    archive.messages.storeEvent(ACCOUNT, { kind: 'reaction', peer: PEER, sender: PEER, target: 'mine-1', emojis: ['👍'], ts: T0 + 1, messageId: 'x' });
    archive.messages.storeBatch(ACCOUNT, Array.from({ length: 300 }, (_, i) => fromPeer(i + 10)));
    archive.messages.store(OTHER_ACCOUNT, { ...fromPeer(1), stanzaId: { id: 'w', by: ALSO_ME } });

    const file = path.join(dir, 'out', 'export.jsonl');
    const written = await exportArchive(archive, file, { accounts: archive.accounts.list(), conversations: [archive.conversations.get(mine.conversation.id)] }, T0);
    expect(written).toBe(301);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toEqual({ format: EXPORT_FORMAT, version: 1, exportedAt: new Date(T0).toISOString() });
    expect(lines[1]).toEqual({ type: 'account', id: ACCOUNT, jid: ME });
    expect(lines[2]).toMatchObject({ type: 'conversation', account: ACCOUNT, peer: PEER, kind: 'chat' });
    expect(lines[3]).toMatchObject({
      type: 'message',
      time: new Date(T0 + 60_000).toISOString(),
      direction: 'out',
      from: ME,
      body: 'final',
      originalBody: 'draft',
      corrections: [{ time: new Date(T0 + 120_000).toISOString(), body: 'final' }],
      ids: { id: 'mine-1', originId: 'mine-1' },
      reactions: [{ emoji: '👍', from: [PEER] }],
      replyTo: { ref: 'peer-0' },
      attachments: [{ url: 'https://x.example/a.png', mime: 'image/png' }],
    });
    const messages = lines.filter((l) => l.type === 'message');
    expect(messages).toHaveLength(301);
    expect(messages.map((m) => m.time as string)).toEqual(messages.map((m) => m.time as string).sort());
    expect(lines.at(-1)).toEqual({ type: 'end', messages: 301 });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['export.jsonl']);
  });

  it('sizes slices from the time the last one took', () => {
    expect(nextSliceSize(100, 1)).toBe(200); // fast: grow, at most twice
    expect(nextSliceSize(100, 5)).toBe(100);
    expect(nextSliceSize(100, 10)).toBe(50);
    expect(nextSliceSize(100, 1000)).toBe(25); // slow: shrink, at most to a quarter
    expect(nextSliceSize(4000, 0)).toBe(5000);
    expect(nextSliceSize(10, 1000)).toBe(10);
  });
});
