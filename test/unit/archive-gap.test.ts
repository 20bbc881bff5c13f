import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';
import { messageLine } from '../../main/core/archive/export';
import { ACCOUNT, OTHER_ACCOUNT, PEER, T0, fromPeer, makeArchive, type ArchiveFixture } from './archive-support';

const minute = (n: number) => T0 + n * 60_000;

describe('archive: notices of history the server no longer keeps', () => {
  let fx: ArchiveFixture;
  beforeEach(() => (fx = makeArchive()));
  afterEach(() => fx.close());

  it('places the notice after the messages before the gap, in every page, and keeps it across a restart', () => {
    const { archive } = fx;
    archive.messages.storeBatch(ACCOUNT, [fromPeer(1), fromPeer(2)]);
    const conversation = archive.conversations.list()[0]!;
    archive.conversations.markRead(conversation.id);
    const [notice] = archive.messages.addGapNotices(ACCOUNT, minute(2), minute(9));
    archive.messages.storeBatch(ACCOUNT, [fromPeer(9), fromPeer(10)]);
    expect(notice).toMatchObject({ conversationId: conversation.id, gap: { from: minute(2), to: minute(9) } });

    archive.close();
    const reopened = new Archive(openDatabase(fx.file), () => T0);
    const timeline = reopened.messages.pageBefore(conversation.id, undefined, 10).messages;
    expect(timeline.map((m) => (m.gap ? 'gap' : m.body))).toEqual(['message 1', 'message 2', 'gap', 'message 9', 'message 10']);
    // Paging backwards from the newest message finds it in its place too.
    const older = reopened.messages.pageBefore(conversation.id, { ts: minute(9), id: timeline[3]!.id }, 2).messages;
    expect(older.map((m) => (m.gap ? 'gap' : m.body))).toEqual(['message 2', 'gap']);
    reopened.close();
  });

  it('is exported as a gap line, not as an empty message', () => {
    const { archive } = fx;
    archive.messages.storeBatch(ACCOUNT, [fromPeer(1)]);
    archive.messages.addGapNotices(ACCOUNT, minute(1), minute(5));
    const conversation = archive.conversations.list()[0]!;
    const lines = archive.messages.exportPage(conversation.id, 0, 10).map(messageLine);
    expect(lines.map((l) => l.type)).toEqual(['message', 'gap']);
    expect(lines[1]).toEqual({
      type: 'gap',
      conversation: conversation.id,
      id: expect.any(Number),
      from: new Date(minute(1)).toISOString(),
      to: new Date(minute(5)).toISOString(),
    });
  });

  it('is no unread message, no preview and no search hit', () => {
    const { archive } = fx;
    archive.messages.storeBatch(ACCOUNT, [fromPeer(1, { body: 'missing history' })]);
    const conversation = archive.conversations.markRead(archive.conversations.list()[0]!.id);
    archive.messages.addGapNotices(ACCOUNT, minute(1), minute(5));
    expect(archive.conversations.get(conversation.id)).toMatchObject({ unread: 0, last: { body: 'missing history' } });
    expect(archive.messages.search({ query: 'missing', limit: 10 }).hits.map((h) => h.message.body)).toEqual(['missing history']);
    expect(archive.messages.search({ query: 'server', limit: 10 }).hits).toEqual([]);
    // A message after the read marker is one unread, however many notices lie before it.
    archive.messages.storeBatch(ACCOUNT, [fromPeer(6)]);
    expect(archive.conversations.get(conversation.id).unread).toBe(1);
  });

  it('goes only where messages from before the gap are, and only for that account', () => {
    const { archive } = fx;
    archive.messages.storeBatch(ACCOUNT, [fromPeer(1)]);
    archive.messages.storeBatch(ACCOUNT, [fromPeer(8, { peer: 'later@example.net', sender: 'later@example.net' })]);
    archive.messages.storeBatch(OTHER_ACCOUNT, [fromPeer(1)]);
    const notices = archive.messages.addGapNotices(ACCOUNT, minute(3), minute(7));
    expect(notices.map((n) => archive.conversations.get(n.conversationId).peer)).toEqual([PEER]);
    expect(notices[0]!.accountId).toBe(ACCOUNT);
  });
});
