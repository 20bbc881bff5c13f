import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, ME, fromPeer, makeArchive, type ArchiveFixture } from './archive-support';

describe('archive: batch store and MAM sync state', () => {
  let fx: ArchiveFixture;
  beforeEach(() => (fx = makeArchive()));
  afterEach(() => fx.close());

  it('stores a page once, however often it is replayed', () => {
    const { archive } = fx;
    const page = [1, 2, 3].map((n) => fromPeer(n));
    expect(archive.messages.storeBatch(ACCOUNT, page).map((r) => r.created)).toEqual([true, true, true]);
    expect(archive.messages.storeBatch(ACCOUNT, page).map((r) => r.created)).toEqual([false, false, false]);
    const conversation = archive.conversations.list()[0]!;
    expect(archive.messages.pageBefore(conversation.id, undefined, 10).messages.map((m) => m.body)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(conversation.unread).toBe(3);
  });

  it('remembers where each archive was synced to', () => {
    const { archive } = fx;
    expect(archive.sync.getMamState(ACCOUNT, ME)).toBeNull();
    archive.sync.setMamState(ACCOUNT, ME, { lastStanzaId: 's3', lastTs: 3, complete: false });
    archive.sync.setMamState(ACCOUNT, ME, { lastStanzaId: 's9', lastTs: 9, complete: true });
    expect(archive.sync.getMamState(ACCOUNT, ME)).toEqual({ lastStanzaId: 's9', lastTs: 9, complete: true });
    expect(archive.sync.getMamState(ACCOUNT, 'room@muc.example.org')).toBeNull();
  });

  it('commits a page and its cursor together, or neither', () => {
    const { archive } = fx;
    expect(() =>
      archive.transaction(() => {
        archive.messages.storeBatch(ACCOUNT, [fromPeer(1), fromPeer(2)]);
        archive.sync.setMamState(ACCOUNT, ME, { lastStanzaId: 'arch-2', lastTs: 2, complete: false });
        throw new Error('connection lost mid-page');
      }),
    ).toThrow('connection lost mid-page');
    expect(archive.sync.getMamState(ACCOUNT, ME)).toBeNull();
    expect(archive.conversations.list()).toEqual([]);
  });
});
