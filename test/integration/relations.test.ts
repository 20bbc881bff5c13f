// Message relations and typing between two Herons through a real Prosody: an edit, a reply, a
// reaction and a deletion for everyone each reach the peer as the peer's window would show
// them; typing is seen; and an edit and a reaction made while the peer was away arrive with
// its catch-up and apply once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, twoFriends, type TestCore } from '../support/cores';
import type { AccountView } from '../../preload/contract';

describe('message relations through a real server', () => {
  let server: TestServer;
  let alice: TestCore;
  let bob: TestCore | undefined;
  let aliceJid: string;
  let bobJid: string;
  let aliceAccount: AccountView;
  let bobAccount: AccountView;

  const online = (core: TestCore, account: AccountView) => core.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);

  beforeAll(async () => {
    server = await startProsody();
    ({ alice, bob, aliceJid, bobJid, aliceAccount, bobAccount } = await twoFriends(server));
  });

  afterAll(async () => {
    await alice?.core.close();
    await bob?.core.close();
    await server?.stop();
  });

  it('edits, replies, reacts and deletes for everyone, as the peer sees it', async () => {
    const toBob = await alice.call('conversations.open', { accountId: aliceAccount.id, peer: bobJid });
    const mine = await alice.call('messages.send', { conversationId: toBob.id, body: 'lunch at 12?' });
    const atBob = await bob!.waitFor('message.added', (m) => m.body === 'lunch at 12?');

    // An edit: bob's copy of the same message now reads the new text.
    const edited = await alice.call('messages.correct', { messageId: mine.id, body: 'lunch at 1?' });
    expect(edited).toMatchObject({ id: mine.id, body: 'lunch at 1?', editedAt: expect.any(Number) });
    const editedAtBob = await bob!.waitFor('message.updated', (m) => m.id === atBob.id && m.body === 'lunch at 1?');
    expect(editedAtBob.editedAt).toEqual(expect.any(Number));

    // A reply: alice sees what bob wrote, without the quote, answering her message.
    await bob!.call('messages.send', { conversationId: atBob.conversationId, body: 'sure, see you there', replyTo: atBob.id });
    const reply = await alice.waitFor('message.added', (m) => m.direction === 'in' && m.body === 'sure, see you there');
    expect(reply.replyTo).toMatchObject({ id: mine.id });

    // Reactions: bob's set replaces his last; an empty set takes it back.
    await bob!.call('messages.react', { messageId: atBob.id, emojis: ['👍', '🎉'] });
    await alice.waitFor('message.updated', (m) => m.id === mine.id && m.reactions?.length === 2);
    await bob!.call('messages.react', { messageId: atBob.id, emojis: ['🎉'] });
    const reacted = await alice.waitFor('message.updated', (m) => m.id === mine.id && m.reactions?.length === 1);
    expect(reacted.reactions).toEqual([{ emoji: '🎉', from: [bobJid] }]);

    // Deleted for everyone: a tombstone on both sides.
    const retracted = await alice.call('messages.retract', { messageId: mine.id });
    expect(retracted).toMatchObject({ body: '', retractedAt: expect.any(Number) });
    const gone = await bob!.waitFor('message.updated', (m) => m.id === atBob.id && m.retractedAt !== undefined);
    expect(gone.body).toBe('');
    const page = await bob!.call('messages.page', { conversationId: atBob.conversationId, limit: 10 });
    expect(page.messages.map((m) => m.body)).toEqual(['', 'sure, see you there']);
  });

  it('sends an edit made while offline once back online, after a restart too', async () => {
    const toBob = await alice.call('conversations.open', { accountId: aliceAccount.id, peer: bobJid });
    const mine = await alice.call('messages.send', { conversationId: toBob.id, body: 'the train leaves at 9' });
    const atBob = await bob!.waitFor('message.added', (m) => m.body === 'the train leaves at 9');
    await alice.call('accounts.setEnabled', { accountId: aliceAccount.id, enabled: false });
    await alice.call('messages.correct', { messageId: mine.id, body: 'the train leaves at 10' });
    const dataDir = alice.dataDir;
    await alice.core.close();
    alice = await startCore({ server, dataDir });
    await alice.call('accounts.setEnabled', { accountId: aliceAccount.id, enabled: true });
    await online(alice, aliceAccount);
    await bob!.waitFor('message.updated', (m) => m.id === atBob.id && m.body === 'the train leaves at 10');
    const page = await bob!.call('messages.page', { conversationId: atBob.conversationId, limit: 50 });
    expect(page.messages.filter((m) => m.body.startsWith('the train'))).toHaveLength(1);
  });

  it('shows the contact typing', async () => {
    const toBob = await alice.call('conversations.open', { accountId: aliceAccount.id, peer: bobJid });
    const typing = bob!.nextEvent('chatState.changed', (s) => s.peer === aliceJid && s.state === 'composing');
    expect(await alice.call('chatStates.send', { conversationId: toBob.id, state: 'composing' })).toEqual({ conversationId: toBob.id });
    expect(await typing).toMatchObject({ accountId: bobAccount.id, state: 'composing' });
    // Sending the message ends it: <active/> rides along.
    const active = bob!.nextEvent('chatState.changed', (s) => s.peer === aliceJid && s.state === 'active');
    await alice.call('messages.send', { conversationId: toBob.id, body: 'typed it' });
    await active;
  });

  it('applies, once, an edit and a reaction made while the peer was away, when the peer catches up', async () => {
    const dataDir = bob!.dataDir;
    await bob!.core.close();
    bob = undefined;
    const toBob = await alice.call('conversations.open', { accountId: aliceAccount.id, peer: bobJid });
    const sent = await alice.call('messages.send', { conversationId: toBob.id, body: 'meet at the statue' });
    await alice.waitFor('message.updated', (m) => m.id === sent.id && m.state !== 'pending');
    await alice.call('messages.correct', { messageId: sent.id, body: 'meet at the fountain' });
    // And a reaction to bob's earlier reply, which reaches him only through his archive.
    const bobsReply = (await alice.call('messages.page', { conversationId: toBob.id, limit: 20 })).messages.find((m) => m.body === 'sure, see you there')!;
    await alice.call('messages.react', { messageId: bobsReply.id, emojis: ['❤️'] });

    bob = await startCore({ server, dataDir });
    await online(bob, bobAccount);
    const conversation = (await bob.call('conversations.list', {})).find((c) => c.peer === aliceJid)!;
    const page = await bob.call('messages.page', { conversationId: conversation.id, limit: 20 });
    const meeting = page.messages.filter((m) => m.body.startsWith('meet at'));
    expect(meeting).toHaveLength(1);
    expect(meeting[0]).toMatchObject({ body: 'meet at the fountain', editedAt: expect.any(Number) });
    expect(conversation.last?.body).toBe('meet at the fountain');
    expect(page.messages.find((m) => m.body === 'sure, see you there')?.reactions).toEqual([{ emoji: '❤️', from: [aliceJid] }]);
  });
});
