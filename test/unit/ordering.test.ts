import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import { ArchiveOrder, placeLive } from '../../main/core/features/ordering';
import { Archive, type MessageRecord } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';
import { ChatFeature } from '../../main/core/features/chat';
import { RelationsFeature } from '../../main/core/features/relations';
import { MamFeature } from '../../main/core/features/mam';
import type { FeatureContext } from '../../main/core/features/feature';
import { Hooks } from '../../main/core/features/hooks';
import type { MarkersFeature } from '../../main/core/features/markers';
import type { Session } from '../../main/core/xmpp/session';

const ACCOUNT = '00000000-0000-4000-8000-000000000001';

const record = (sender: string, ts: number): MessageRecord => ({ peer: 'bob@x', direction: 'in', sender, body: '', ts, state: 'received' });

describe('ArchiveOrder', () => {
  it('keeps a new message after the one the archive put before it, even with a coarser stamp', () => {
    const order = new ArchiveOrder(0);
    // b-20 arrived live at 10.600 s; b-21 comes from the archive stamped 10 s (whole seconds).
    order.stored(record('bob@x', 10_600), 10_600);
    const b21 = record('bob@x', 10_000);
    expect(order.place(b21)).toBe(10_600);
  });

  it('keeps a new message before one it precedes in the archive', () => {
    const order = new ArchiveOrder(0);
    // a-0 (stamp 16 s) precedes a-1, which arrived live at 16.442 s and is already held.
    const a0 = record('alice@x', 16_000);
    const at = order.place(a0);
    order.stored(a0, at);
    expect(at).toBeLessThan(16_442);
  });

  it('never places anything before where the previous catch-up ended, and tracks senders apart', () => {
    const order = new ArchiveOrder(50_000);
    expect(order.place(record('bob@x', 40_000))).toBe(50_000);
    order.stored(record('bob@x', 0), 70_000);
    expect(order.place(record('carol@x', 60_000))).toBe(60_000);
  });
});

// ── a backlog at login ──────────────────────────────────────────────────────
// The chat and catch-up features against a real archive and a fake server holding 200 messages
// from bob both in offline storage and in its archive, as Prosody does while we are away.

const OWN = 'alice@heron.test';
const BOB = 'bob@heron.test';
const NOW = Date.parse('2026-03-01T12:00:00Z');
const SENT_AT = NOW - 3_600_000;
const BACKLOG = 200;
// The server's stamps are whole seconds: a hundred messages share each one.
const stampOf = (i: number) => new Date(SENT_AT + Math.floor(i / 100) * 1000).toISOString().replace('.000', '');
const inner = (i: number) => xml('message', { from: `${BOB}/laptop`, to: OWN, type: 'chat', id: `bob-${i}` }, xml('body', {}, `bob says ${i}`));

/** What offline storage hands over after initial presence (XEP-0160): our archive's stanza-id, our server's delay. */
function offlineCopy(i: number): Element {
  const message = inner(i);
  message.append(xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: OWN, id: `arch-${i}` }));
  message.append(xml('delay', { xmlns: 'urn:xmpp:delay', from: 'heron.test', stamp: stampOf(i) }, 'Offline Storage'));
  return message;
}

/** Answers MAM queries (XEP-0313 with XEP-0059 paging) over the backlog, results in archive order. */
function fakeArchive(deliver: (result: Element) => void, afterResults: () => void) {
  return async (iq: Element) => {
    const query = iq.getChild('query', 'urn:xmpp:mam:2')!;
    const set = query.getChild('set', 'http://jabber.org/protocol/rsm')!;
    const max = Number(set.getChildText('max'));
    const index = (id: string) => Number(id.replace('arch-', ''));
    const before = set.getChild('before');
    const after = set.getChildText('after');
    const end = before ? (before.text() ? index(before.text()) : BACKLOG) : BACKLOG;
    const start = before ? Math.max(0, end - max) : after ? index(after) + 1 : 0;
    const slice = Array.from({ length: Math.max(0, Math.min(end, start + max) - start) }, (_, k) => start + k);
    for (const i of slice) {
      deliver(
        xml(
          'message',
          { to: `${OWN}/desk` },
          xml('result', { xmlns: 'urn:xmpp:mam:2', queryid: query.attrs.queryid, id: `arch-${i}` },
            xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('delay', { xmlns: 'urn:xmpp:delay', stamp: stampOf(i) }), inner(i))),
        ),
      );
    }
    afterResults();
    const complete = before ? start === 0 : start + max >= BACKLOG;
    const rsm = slice.length > 0 ? [xml('first', {}, `arch-${slice[0]}`), xml('last', {}, `arch-${slice.at(-1)}`)] : [];
    return xml('iq', { type: 'result' }, xml('fin', { xmlns: 'urn:xmpp:mam:2', ...(complete ? { complete: 'true' } : {}) }, xml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, ...rsm)));
  };
}

describe('a backlog at login', () => {
  let dir: string;
  let archive: Archive;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-backlog-'));
    archive = new Archive(openDatabase(path.join(dir, 'heron.sqlite')));
    archive.accounts.insert({ id: ACCOUNT, jid: OWN, host: null, port: null, resource: 'desk', enabled: true });
  });
  afterEach(() => {
    archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  type Flush = 'before the archive page' | 'among its results' | 'after its answer';

  /** Logs in for the first time; offline storage hands its 200 over at the moment given. */
  async function login(flush: Flush): Promise<string[]> {
    const ctx: FeatureContext = {
      accountId: ACCOUNT,
      bare: OWN,
      archive,
      emit: () => {},
      log: () => {},
      clock: { now: () => NOW, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      liveSession: () => session,
      hooks: new Hooks(() => {}),
    };
    const chat = new ChatFeature(ctx, { receive: () => {} } as unknown as MarkersFeature, new RelationsFeature(ctx));
    const mam = new MamFeature(ctx, () => chat.heldFromOffline());
    let flushed = false;
    const flushOffline = () => {
      if (flushed) return;
      flushed = true;
      for (let i = 0; i < BACKLOG; i++) chat.stanza(offlineCopy(i), session);
    };
    const session = {
      entity: { send: async () => {} },
      iqCaller: {
        set: async () => undefined,
        request: fakeArchive((result) => mam.stanza(result), () => flush === 'among its results' && flushOffline()),
      },
    } as unknown as Session;
    await chat.online(session);
    if (flush === 'before the archive page') flushOffline();
    await mam.ready(session);
    if (flush === 'after its answer') flushOffline();
    chat.release(session, mam.readBackTo);
    const conversation = archive.conversations.open(ACCOUNT, BOB);
    return archive.messages.pageBefore(conversation.id, undefined, 500).messages.map((m) => m.body);
  }

  const sentOrder = Array.from({ length: BACKLOG }, (_, i) => `bob says ${i}`);

  it('reads in the order sent when offline storage hands it over before the archive page', async () => {
    expect(await login('before the archive page')).toEqual(sentOrder);
  });

  it('reads in the order sent when the newest archive page comes before the older offline messages', async () => {
    expect(await login('among its results')).toEqual(sentOrder);
  });

  it('reads in the order sent when offline storage hands them over only after the archive page was answered', async () => {
    expect(await login('after its answer')).toEqual(sentOrder);
  });
});

describe('placeLive', () => {
  let dir: string;
  let archive: Archive;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-live-'));
    archive = new Archive(openDatabase(path.join(dir, 'heron.sqlite')));
    archive.accounts.insert({ id: ACCOUNT, jid: OWN, host: null, port: null, resource: 'desk', enabled: true });
  });
  afterEach(() => {
    archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('puts a message after what the conversation holds, even one our server stamped; a first backlog keeps its time', () => {
    // The catch-up stored a message at the server's clock, a little ahead of ours.
    archive.messages.store(ACCOUNT, { ...record(BOB, 10_900), peer: BOB });
    expect(placeLive(archive, ACCOUNT, { ...record(BOB, 10_500), peer: BOB }).ts).toBe(10_900);
    expect(placeLive(archive, ACCOUNT, { ...record(BOB, 11_000), peer: BOB }).ts).toBe(11_000);
    // Offline storage stamps whole seconds: 10 s would go before what arrived live at 10.9 s.
    expect(placeLive(archive, ACCOUNT, { ...record(BOB, 10_000), peer: BOB }).ts).toBe(10_900);
    // A first connect's backlog: the stamp is the order the server received it in, among older history too.
    expect(placeLive(archive, ACCOUNT, { ...record(BOB, 5_000), peer: BOB }, true).ts).toBe(5_000);
    // Another conversation is no floor.
    expect(placeLive(archive, ACCOUNT, record('carol@x', 1_000)).ts).toBe(1_000);
  });
});
