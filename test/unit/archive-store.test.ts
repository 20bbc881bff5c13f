import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveOrder } from '../../main/core/features/ordering';
import { ACCOUNT, ME, OTHER_ACCOUNT, PEER, T0, fromPeer, makeArchive, toPeer, type ArchiveFixture } from './archive-support';

describe('archive: each message once, with its relations', () => {
  let fx: ArchiveFixture;
  beforeEach(() => (fx = makeArchive()));
  afterEach(() => fx.close());
  const bodies = (conversationId: number) => fx.archive.messages.pageBefore(conversationId, undefined, 100).messages.map((m) => m.body);

  it('stores a message that arrives live, as a carbon and from the archive once', () => {
    const { archive } = fx;
    // Live: the server stamped it with our archive's stanza-id.
    const live = archive.messages.store(ACCOUNT, fromPeer(1, { ts: T0 + 5 }));
    // A carbon of the same stanza (another resource of ours received it): no stanza-id of ours.
    const carbon = archive.messages.store(ACCOUNT, fromPeer(1, { stanzaId: undefined, ts: T0 + 9 }));
    // The archive's copy on the next catch-up, with the server's time.
    const mam = archive.messages.storeBatch(ACCOUNT, [fromPeer(1, { ts: T0 + 3 })])[0]!;
    expect([live.created, carbon.created, mam.created]).toEqual([true, false, false]);
    expect(carbon.message.id).toBe(live.message.id);
    expect(mam.message.id).toBe(live.message.id);
    expect(bodies(live.conversation.id)).toEqual(['message 1']);
    expect(archive.conversations.get(live.conversation.id).unread).toBe(1);
  });

  it('matches our own message with the archive copy of it, and fills in its stanza-id', () => {
    const { archive } = fx;
    const sent = archive.messages.store(ACCOUNT, toPeer(1));
    const copy = archive.messages.store(ACCOUNT, toPeer(1, { stanzaId: { id: 'arch-mine-1', by: ME }, state: 'sent', ts: T0 + 61_000 }));
    expect(copy.created).toBe(false);
    expect(copy.message.id).toBe(sent.message.id);
    // Now archived, it is still found by its id: a receipt for it moves it on.
    expect(archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-1', 'delivered')?.state).toBe('delivered');
    // The same id from someone else is another message.
    expect(archive.messages.store(ACCOUNT, fromPeer(9, { messageId: 'mine-1', originId: 'mine-1', stanzaId: undefined })).created).toBe(true);
  });

  it('stores a message resent after a cut once, though the server archived it twice', () => {
    const { archive } = fx;
    const sent = archive.messages.store(ACCOUNT, toPeer(1));
    const first = archive.messages.store(ACCOUNT, toPeer(1, { stanzaId: { id: 'arch-a', by: ME }, state: 'sent' }));
    const second = archive.messages.store(ACCOUNT, toPeer(1, { stanzaId: { id: 'arch-b', by: ME }, state: 'sent' }));
    expect([first.created, second.created]).toEqual([false, false]);
    // A client without origin-ids resending the same message id: matched by sender + id.
    const peerFirst = archive.messages.store(ACCOUNT, fromPeer(2, { originId: undefined, stanzaId: { id: 'arch-c', by: ME } }));
    const peerAgain = archive.messages.store(ACCOUNT, fromPeer(2, { originId: undefined, stanzaId: { id: 'arch-d', by: ME } }));
    expect(peerAgain.created).toBe(false);
    expect(peerAgain.message.id).toBe(peerFirst.message.id);
    expect(bodies(sent.conversation.id)).toEqual(['reply 1', 'message 2']);
  });

  it('keeps outgoing states moving forward only', () => {
    const { archive } = fx;
    archive.messages.store(ACCOUNT, toPeer(1));
    expect(archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-1', 'delivered')?.state).toBe('delivered');
    expect(archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-1', 'sent')).toBeUndefined();
    expect(archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-1', 'failed')).toBeUndefined();
    expect(archive.messages.pendingOutgoing(ACCOUNT)).toEqual([]);
  });

  it('marks delivered, on a later receipt, what a cut left pending while newer messages were already delivered', () => {
    const { archive } = fx;
    for (let i = 1; i <= 5; i++) archive.messages.store(ACCOUNT, toPeer(i));
    // 1–3 wait to be resent after a cut; 4 and 5 went out and 5's receipt came back.
    archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-4', 'sent');
    archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-5', 'sent');
    expect(archive.messages.deliverOutgoingUpTo(ACCOUNT, PEER, 'mine-5').map((m) => m.body)).toEqual(['reply 4', 'reply 5']);
    // The resent 1–3 are taken by the server; the receipts for them were lost in the cut.
    for (const i of [1, 2, 3]) archive.messages.advanceOutgoing(ACCOUNT, PEER, `mine-${i}`, 'sent');
    archive.messages.store(ACCOUNT, toPeer(6, { state: 'sent' }));
    expect(archive.messages.deliverOutgoingUpTo(ACCOUNT, PEER, 'mine-6').map((m) => m.body)).toEqual(['reply 1', 'reply 2', 'reply 3', 'reply 6']);
    const states = archive.messages.pageBefore(archive.conversations.get(1).id, undefined, 10).messages.map((m) => `${m.body}:${m.state}`);
    expect(states).toEqual(['reply 1', 'reply 2', 'reply 3', 'reply 4', 'reply 5', 'reply 6'].map((b) => `${b}:delivered`));
  });

  it('counts a receipt for a message still pending or failed as its delivery, and leaves older failed ones failed', () => {
    const { archive } = fx;
    for (let i = 1; i <= 3; i++) archive.messages.store(ACCOUNT, toPeer(i));
    archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-1', 'failed', 'service-unavailable');
    archive.messages.advanceOutgoing(ACCOUNT, PEER, 'mine-2', 'sent');
    expect(archive.messages.deliverOutgoingUpTo(ACCOUNT, PEER, 'mine-3').map((m) => `${m.body}:${m.state}`)).toEqual(['reply 2:delivered', 'reply 3:delivered']);
    expect(archive.messages.pageBefore(archive.conversations.get(1).id, undefined, 10).messages[0]).toMatchObject({ body: 'reply 1', state: 'failed' });
  });

  it('orders history by time, whatever order it arrives in', () => {
    const { archive } = fx;
    archive.messages.storeBatch(ACCOUNT, [fromPeer(5), fromPeer(6)]);
    // Older history fetched later, including two messages with the very same time.
    archive.messages.storeBatch(ACCOUNT, [fromPeer(1), fromPeer(2, { ts: T0 + 60_000 }), fromPeer(3)]);
    const conversation = archive.conversations.list()[0]!;
    expect(bodies(conversation.id)).toEqual(['message 1', 'message 2', 'message 3', 'message 5', 'message 6']);
    expect(conversation.last?.body).toBe('message 6');
  });

  it('stores a batch where its placement puts each message, a copy already held setting the time for the next', () => {
    const { archive } = fx;
    // Held since it came live, later than the archive says it was sent.
    const live = archive.messages.store(ACCOUNT, fromPeer(2, { ts: T0 + 10 * 60_000 })).message;
    const order = new ArchiveOrder(0, (record) => record.peer);
    // The archive: 1, 2 (held), 3 (stamped before the held copy's time).
    const stored = archive.messages.storeBatch(ACCOUNT, [fromPeer(1), fromPeer(2), fromPeer(3)], order);
    expect(stored.map((s) => s.created)).toEqual([true, false, true]);
    expect(stored[1]!.message.id).toBe(live.id);
    expect(stored[2]!.message.ts).toBe(live.ts);
    expect(bodies(live.conversationId)).toEqual(['message 1', 'message 2', 'message 3']);
  });

  it('pages before and after a cursor and around a message', () => {
    const { archive } = fx;
    const stored = archive.messages.storeBatch(ACCOUNT, Array.from({ length: 30 }, (_, i) => fromPeer(i + 1)));
    const conversationId = stored[0]!.conversation.id;
    const newest = archive.messages.pageBefore(conversationId, undefined, 10);
    expect(newest.messages.map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, i) => `message ${i + 21}`));
    expect(newest.hasMoreBefore).toBe(true);
    const older = archive.messages.pageBefore(conversationId, newest.messages[0]!, 25);
    expect(older.messages.map((m) => m.body)[0]).toBe('message 1');
    expect(older.hasMoreBefore).toBe(false);
    const after = archive.messages.pageAfter(conversationId, stored[4]!.message, 3);
    expect(after.messages.map((m) => m.body)).toEqual(['message 6', 'message 7', 'message 8']);
    expect(after.hasMoreAfter).toBe(true);
    const around = archive.messages.pageAround(stored[14]!.message.id, 5);
    expect(around.messages.map((m) => m.body)).toEqual(['message 13', 'message 14', 'message 15', 'message 16', 'message 17']);
    expect([around.hasMoreBefore, around.hasMoreAfter]).toEqual([true, true]);
    expect(archive.messages.pageAround(stored[0]!.message.id, 5).messages.map((m) => m.body)).toEqual(['message 1', 'message 2', 'message 3', 'message 4', 'message 5']);
  });

  it('counts unread messages after what was read, and our own replies as reading', () => {
    const { archive } = fx;
    const [first] = archive.messages.storeBatch(ACCOUNT, [fromPeer(1), fromPeer(2)]);
    const id = first!.conversation.id;
    expect(archive.conversations.get(id).unread).toBe(2);
    expect(archive.conversations.markRead(id).unread).toBe(0);
    archive.messages.store(ACCOUNT, fromPeer(3));
    expect(archive.conversations.get(id).unread).toBe(1);
    archive.messages.store(ACCOUNT, toPeer(4));
    expect(archive.conversations.get(id).unread).toBe(0);
    // A reply from another device arriving with older messages after it: those stay unread.
    archive.messages.storeBatch(ACCOUNT, [fromPeer(6), toPeer(5, { originId: 'other-5', messageId: 'other-5' }), fromPeer(7)]);
    expect(archive.conversations.get(id).unread).toBe(2);
    // History from before what was read is not unread.
    archive.messages.store(ACCOUNT, fromPeer(0));
    expect(archive.conversations.get(id).unread).toBe(2);
  });

  it('shows a correction in place of the text it corrects; the latest correction wins', () => {
    const { archive } = fx;
    const original = archive.messages.store(ACCOUNT, fromPeer(1, { body: 'see you at 5' }));
    const corrected = archive.messages.store(ACCOUNT, fromPeer(2, { body: 'see you at 6', replaces: 'peer-1' }));
    expect(corrected).toMatchObject({ created: false, updated: true, message: { id: original.message.id, body: 'see you at 6' } });
    expect(corrected.message.editedAt).toBe(T0 + 2 * 60_000);
    // An older correction fetched later does not undo the newer one; a replay changes nothing.
    const late = archive.messages.store(ACCOUNT, fromPeer(0, { body: 'see you at 4', replaces: 'peer-1', ts: T0 + 90_000 }));
    expect(late.updated).toBe(false);
    expect(archive.messages.store(ACCOUNT, fromPeer(2, { body: 'see you at 6', replaces: 'peer-1' })).updated).toBe(false);
    expect(bodies(original.conversation.id)).toEqual(['see you at 6']);
  });

  it('keeps a correction in clear of an encrypted message as a message of its own', () => {
    const { archive } = fx;
    const original = archive.messages.store(ACCOUNT, fromPeer(1, { body: 'the code is 4711', encryption: 'omemo2', senderDevice: 7 }));
    const plain = archive.messages.store(ACCOUNT, fromPeer(2, { body: 'the code is 0000', replaces: 'peer-1' }));
    expect(plain.created).toBe(true);
    expect(plain.message.encryption).toBeUndefined();
    const sealed = archive.messages.store(ACCOUNT, fromPeer(3, { body: 'the code is 4712', replaces: 'peer-1', encryption: 'omemo2', senderDevice: 7 }));
    expect(sealed).toMatchObject({ created: false, updated: true, message: { id: original.message.id, body: 'the code is 4712', encryption: 'omemo2' } });
  });

  it('replaces a message that could not be decrypted by a copy that could, and never the other way round', () => {
    const { archive } = fx;
    const failed = archive.messages.store(ACCOUNT, fromPeer(1, { body: 'This message could not be decrypted: no session.', encryption: 'omemo2', senderDevice: 7, undecryptable: true }));
    const read = archive.messages.store(ACCOUNT, fromPeer(1, { body: 'meet at the mill', encryption: 'omemo2', senderDevice: 7 }));
    expect(read).toMatchObject({ created: false, updated: true, message: { id: failed.message.id, body: 'meet at the mill', encryption: 'omemo2' } });
    expect(read.message.undecryptable).toBeUndefined();
    expect(archive.messages.search({ query: 'mill', limit: 10 }).hits.map((h) => h.message.id)).toEqual([failed.message.id]);
    // A later copy that fails (its key spent) leaves the text as it was.
    const again = archive.messages.store(ACCOUNT, fromPeer(1, { body: 'This message could not be decrypted: bad MAC.', encryption: 'omemo2', senderDevice: 7, undecryptable: true }));
    expect(again).toMatchObject({ created: false, updated: false, message: { body: 'meet at the mill' } });
  });

  it('does not let anyone but the author correct or retract a message', () => {
    const { archive } = fx;
    const original = archive.messages.store(ACCOUNT, toPeer(1, { body: 'I owe you 10' }));
    const forged = archive.messages.store(ACCOUNT, fromPeer(2, { body: 'I owe you 1000', replaces: 'mine-1' }));
    expect(forged.created).toBe(true); // shown as the peer's own message, not as our words
    archive.messages.storeEvent(ACCOUNT, { kind: 'retraction', peer: PEER, sender: PEER, target: 'mine-1', ts: T0 + 3 * 60_000, messageId: 'r-1' });
    expect(archive.messages.get(original.message.id)).toMatchObject({ body: 'I owe you 10' });
    expect(archive.messages.get(original.message.id).retractedAt).toBeUndefined();
  });

  it('retracts a message, also when the retraction arrives before the message', () => {
    const { archive } = fx;
    const stored = archive.messages.store(ACCOUNT, fromPeer(1, { body: 'oops, wrong chat', attachments: [{ url: 'https://x.example/a.jpg' }] }));
    const result = archive.messages.storeEvent(ACCOUNT, { kind: 'retraction', peer: PEER, sender: PEER, target: 'peer-1', ts: T0 + 120_000, messageId: 'r-1' });
    expect(result.message).toMatchObject({ id: stored.message.id, body: '', retractedAt: T0 + 120_000 });
    expect(result.message?.attachments).toBeUndefined();
    // History fetched newest first: the retraction of message 0 comes before message 0.
    const waiting = archive.messages.storeEvent(ACCOUNT, { kind: 'retraction', peer: PEER, sender: PEER, target: 'peer-0', ts: T0 + 60_000, messageId: 'r-0' });
    expect(waiting.message).toBeNull();
    const late = archive.messages.store(ACCOUNT, fromPeer(0, { body: 'nobody should read this' }));
    expect(late.message).toMatchObject({ body: '', retractedAt: T0 + 60_000 });
    expect(archive.messages.storeEvent(ACCOUNT, { kind: 'retraction', peer: PEER, sender: PEER, target: 'peer-0', ts: T0 + 60_000, messageId: 'r-0' }).created).toBe(false);
  });

  it('keeps the newest set of reactions of each person', () => {
    const { archive } = fx;
    const stored = archive.messages.store(ACCOUNT, toPeer(1));
    const react = (sender: string, emojis: string[], ts: number, id: string) =>
      archive.messages.storeEvent(ACCOUNT, { kind: 'reaction', peer: PEER, sender, target: 'mine-1', emojis, ts, messageId: id });
    react(PEER, ['👍'], T0 + 1000, 'x1');
    react(PEER, ['👍', '🎉'], T0 + 2000, 'x2');
    react(ME, ['🎉'], T0 + 3000, 'x3');
    // A replay of the first, older set changes nothing.
    const after = react(PEER, ['👍'], T0 + 1000, 'x1-replay');
    expect(after.message?.reactions).toEqual([
      { emoji: '👍', from: [PEER] },
      { emoji: '🎉', from: [ME, PEER] },
    ]);
    expect(archive.messages.get(stored.message.id).reactions).toEqual(after.message?.reactions);
  });

  it('links a reply to the message it answers and keeps attachments', () => {
    const { archive } = fx;
    const question = archive.messages.store(ACCOUNT, fromPeer(1, { body: 'lunch?' }));
    const answer = archive.messages.store(
      ACCOUNT,
      toPeer(2, { body: 'yes!', replyTo: { id: 'peer-1', to: PEER }, attachments: [{ url: 'https://x.example/menu.pdf', name: 'menu.pdf', size: 1234 }] }),
    );
    expect(answer.message.replyTo).toEqual({ ref: 'peer-1', to: PEER, id: question.message.id });
    const [, shown] = archive.messages.pageBefore(question.conversation.id, undefined, 10).messages;
    expect(shown).toMatchObject({ replyTo: { id: question.message.id }, attachments: [{ url: 'https://x.example/menu.pdf', name: 'menu.pdf', size: 1234 }] });
  });

  it('keeps accounts apart: the same peer is one conversation per account', () => {
    const { archive } = fx;
    const mine = archive.messages.store(ACCOUNT, fromPeer(1));
    const theirs = archive.messages.store(OTHER_ACCOUNT, fromPeer(1, { stanzaId: { id: 'arch-1', by: 'work@example.com' } }));
    expect(theirs.created).toBe(true);
    expect(theirs.conversation.id).not.toBe(mine.conversation.id);
    expect(archive.conversations.list().map((c) => c.accountId).sort()).toEqual([ACCOUNT, OTHER_ACCOUNT]);
  });
});
