import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, ME, fromPeer, makeArchive, type ArchiveFixture } from './archive-support';

describe('archive: batch store and MAM sync state', () => {
  let fx: ArchiveFixture;
  beforeEach(() => (fx = makeArchive()));
  afterEach(() => fx.close());

  it('stores a page once, however often it is replayed', () => {
    const { archive } = fx;
    const page = [1, 2, 3].map((n) => fromPeer(n));
    expect(archive.storeMessages(ACCOUNT, page).map((r) => r.created)).toEqual([true, true, true]);
    expect(archive.storeMessages(ACCOUNT, page).map((r) => r.created)).toEqual([false, false, false]);
    const conversation = archive.listConversations()[0]!;
    expect(archive.pageBefore(conversation.id, undefined, 10).messages.map((m) => m.body)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(conversation.unread).toBe(3);
  });

  it('remembers where each archive was synced to', () => {
    const { archive } = fx;
    expect(archive.getMamState(ACCOUNT, ME)).toBeNull();
    archive.setMamState(ACCOUNT, ME, { lastStanzaId: 's3', lastTs: 3, complete: false });
    archive.setMamState(ACCOUNT, ME, { lastStanzaId: 's9', lastTs: 9, complete: true });
    expect(archive.getMamState(ACCOUNT, ME)).toEqual({ lastStanzaId: 's9', lastTs: 9, complete: true });
    expect(archive.getMamState(ACCOUNT, 'room@muc.example.org')).toBeNull();
  });

  it('commits a page and its cursor together, or neither', () => {
    const { archive } = fx;
    expect(() =>
      archive.transaction(() => {
        archive.storeMessages(ACCOUNT, [fromPeer(1), fromPeer(2)]);
        archive.setMamState(ACCOUNT, ME, { lastStanzaId: 'arch-2', lastTs: 2, complete: false });
        throw new Error('connection lost mid-page');
      }),
    ).toThrow('connection lost mid-page');
    expect(archive.getMamState(ACCOUNT, ME)).toBeNull();
    expect(archive.listConversations()).toEqual([]);
  });
});
