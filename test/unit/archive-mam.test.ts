import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive, type MessageRecord } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';

const ACCOUNT = '00000000-0000-4000-8000-000000000001';
const OWN = 'me@example.org';

function incoming(n: number, over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    peer: 'peer@example.org',
    direction: 'in',
    sender: 'peer@example.org',
    messageId: `m${n}`,
    stanzaId: { id: `s${n}`, by: OWN },
    body: `message ${n}`,
    ts: 1_700_000_000_000 + n * 1000,
    state: 'received',
    ...over,
  };
}

describe('archive: batch store and MAM sync state', () => {
  let dir: string;
  let archive: Archive;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-archive-'));
    archive = new Archive(openDatabase(path.join(dir, 'a.sqlite')));
    archive.insertAccount({ id: ACCOUNT, jid: OWN, host: null, port: null, resource: 'r', enabled: true });
  });
  afterEach(() => {
    archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores a page once, however often it is replayed', () => {
    const page = [1, 2, 3].map((n) => incoming(n));
    expect(archive.storeMessages(ACCOUNT, page).map((r) => r.created)).toEqual([true, true, true]);
    expect(archive.storeMessages(ACCOUNT, page).map((r) => r.created)).toEqual([false, false, false]);
    const conversation = archive.listConversations()[0]!;
    expect(archive.pageBefore(conversation.id, undefined, 10).messages.map((m) => m.body)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(conversation.unread).toBe(3);
  });

  it('remembers where each archive was synced to', () => {
    expect(archive.getMamState(ACCOUNT, OWN)).toBeNull();
    archive.setMamState(ACCOUNT, OWN, { lastStanzaId: 's3', lastTs: 3, complete: false });
    archive.setMamState(ACCOUNT, OWN, { lastStanzaId: 's9', lastTs: 9, complete: true });
    expect(archive.getMamState(ACCOUNT, OWN)).toEqual({ lastStanzaId: 's9', lastTs: 9, complete: true });
    expect(archive.getMamState(ACCOUNT, 'room@muc.example.org')).toBeNull();
  });

  it('commits a page and its cursor together, or neither', () => {
    expect(() =>
      archive.transaction(() => {
        archive.storeMessages(ACCOUNT, [incoming(1), incoming(2)]);
        archive.setMamState(ACCOUNT, OWN, { lastStanzaId: 's2', lastTs: 2, complete: false });
        throw new Error('connection lost mid-page');
      }),
    ).toThrow('connection lost mid-page');
    expect(archive.getMamState(ACCOUNT, OWN)).toBeNull();
    expect(archive.listConversations()).toEqual([]);
  });
});
