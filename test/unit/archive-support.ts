// Shared set-up for the archive tests: a fresh archive file with two accounts, and record makers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Archive, type MessageRecord } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';

export const ME = 'me@example.org';
export const ALSO_ME = 'work@example.com';
export const ACCOUNT = '00000000-0000-4000-8000-000000000001';
export const OTHER_ACCOUNT = '00000000-0000-4000-8000-000000000002';
export const PEER = 'peer@example.net';
export const T0 = Date.UTC(2025, 0, 1);

export type ArchiveFixture = { archive: Archive; dir: string; file: string; close(): void };

export function makeArchive(): ArchiveFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-archive-'));
  const file = path.join(dir, 'heron.sqlite');
  let now = T0;
  const archive = new Archive(openDatabase(file), () => now++);
  archive.accounts.insert({ id: ACCOUNT, jid: ME, host: null, port: null, resource: 'r1', enabled: true });
  archive.accounts.insert({ id: OTHER_ACCOUNT, jid: ALSO_ME, host: null, port: null, resource: 'r2', enabled: true });
  return {
    archive,
    dir,
    file,
    close() {
      try {
        archive.close();
      } catch {
        // already closed by the test
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An incoming chat message from PEER, as the archive (MAM) would give it. */
export function fromPeer(n: number, over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    peer: PEER,
    direction: 'in',
    sender: PEER,
    messageId: `peer-${n}`,
    originId: `peer-${n}`,
    stanzaId: { id: `arch-${n}`, by: ME },
    body: `message ${n}`,
    ts: T0 + n * 60_000,
    state: 'received',
    ...over,
  };
}

/** A message we sent to PEER, as stored before the server has seen it. */
export function toPeer(n: number, over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    peer: PEER,
    direction: 'out',
    sender: ME,
    messageId: `mine-${n}`,
    originId: `mine-${n}`,
    body: `reply ${n}`,
    ts: T0 + n * 60_000,
    state: 'pending',
    ...over,
  };
}
