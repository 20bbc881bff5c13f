// Tampering with a test Prosody's message archive (storage 'sql'): history that expired there.
import Database from 'better-sqlite3';
import path from 'node:path';
import xml from '@xmpp/xml';
import type { TestServer } from './prosody';
import { connectRaw } from './raw-client';

/** `from` sends each body to `to`; they are in the server archive when this returns. */
export async function sendChats(server: TestServer, from: { jid: string; password: string }, to: string, bodies: string[]): Promise<void> {
  const client = await connectRaw(server, from.jid, from.password, 'laptop');
  for (const body of bodies) await client.send(xml('message', { to, type: 'chat', id: body }, xml('body', {}, body)));
  // Everything is in the server's archive once a round trip after the last send returns.
  await client.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));
  await client.stop();
}

/**
 * Makes the server forget `user`'s archive up to and including the last message the Heron in
 * `dataDir` caught up to, as archive expiry would. Returns how many messages it forgot.
 */
export function expireThroughCursor(server: TestServer, user: string, dataDir: string): number {
  const heron = new Database(path.join(dataDir, 'heron.sqlite'), { readonly: true });
  const { last_stanza_id: cursor } = heron.prepare('SELECT last_stanza_id FROM mam_sync').get() as { last_stanza_id: string };
  heron.close();
  const prosody = new Database(path.join(server.dir, 'prosody.sqlite'));
  try {
    const { sort_id: upTo } = prosody.prepare("SELECT sort_id FROM prosodyarchive WHERE store = 'archive' AND user = ? AND key = ?").get(user, cursor) as {
      sort_id: number;
    };
    return prosody.prepare("DELETE FROM prosodyarchive WHERE store = 'archive' AND user = ? AND sort_id <= ?").run(user, upTo).changes;
  } finally {
    prosody.close();
  }
}

/** Waits into the next whole second: the server stamps its archive in seconds, so later messages cannot share a time with earlier ones. */
export async function nextSecond(): Promise<void> {
  const second = Math.ceil(Date.now() / 1000) * 1000;
  await new Promise((r) => setTimeout(r, second - Date.now() + 10));
}
