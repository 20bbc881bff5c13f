// Group chats in the window: alice creates a room in her window, bob (a bare client) joins
// and they talk; nicks carry their XEP-0392 colour, the occupant list groups people by role,
// bookmark, nick change, leaving, and a room's refusal shown in words.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xml, { type Element } from '@xmpp/xml';
import { expect, test, type Page } from '@playwright/test';
import type { HeronApi } from '../../preload/contract';
import type { NotificationRecord } from '../../main/host/notification-log';
import { until } from '../support/until';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { befriend, connectRaw, nextStanza, type RawClient } from '../support/raw-client';

let server: TestServer;
let host: HostProcess | undefined;
/** Erin's own Heron: she is alice's contact and answers invitations in her window. */
let erinHost: HostProcess | undefined;
const raw: Record<string, RawClient> = {};
const jids: Record<string, string> = {};
let room: string;

test.beforeAll(async () => {
  server = await startProsody({ muc: true });
  room = `climbing@conference.${server.domain}`;
  for (const local of ['alice', 'bob', 'carol', 'dave', 'erin']) jids[local] = await server.register(local, `${local}-pw`);
  await befriend(server, { jid: jids.alice!, password: 'alice-pw' }, { jid: jids.erin!, password: 'erin-pw' });
  const hostFor = async (local: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `heron-${local}-`));
    const setup = await startCore({ server, dataDir: dir });
    const account = await setup.call('accounts.add', accountFor(server, jids[local]!, `${local}-pw`));
    await setup.waitForState(account.id, (a) => a.connection.state === 'online');
    await setup.core.close();
    return startHostProcess({ dataDir: dir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
  };
  host = await hostFor('alice');
  erinHost = await hostFor('erin');
  for (const local of ['bob', 'carol', 'dave']) raw[local] = await connectRaw(server, jids[local]!, `${local}-pw`, 'laptop');
});

test.afterAll(async () => {
  for (const client of Object.values(raw)) await client.stop();
  await host?.stop();
  await erinHost?.stop();
  await server?.stop();
});

/** A bare client enters the room with `nick` and waits for the room's word that it is in. */
async function enter(client: RawClient, nick: string): Promise<void> {
  const self = nextStanza(client, (s: Element) => s.is('presence') && s.attrs.from === `${room}/${nick}` && !s.attrs.type);
  await client.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' }, xml('history', { maxstanzas: '0' }))));
  await self;
}

async function openWindow(page: Page, of: HostProcess = host!): Promise<void> {
  await page.goto(of.url);
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');
}

test('alice creates a room in her window, bob joins and they talk; the occupant list groups them by role', async ({ page }, testInfo) => {
  await openWindow(page);
  await page.getByTestId('join-room-button').click();
  const dialog = page.getByTestId('join-room-dialog');
  await expect(dialog.getByTestId('join-room-nick')).toHaveValue('alice');
  // Not an address: said so, nothing joined.
  await dialog.getByTestId('join-room-address').fill('climbing');
  await dialog.getByTestId('join-room-submit').click();
  await expect(dialog.getByTestId('join-room-error')).toHaveText('Enter a room address like room@conference.example.org.');
  await dialog.getByTestId('join-room-address').fill(room);
  await dialog.getByTestId('join-room-nick').fill('Alice');
  await dialog.getByTestId('join-room-submit').click();
  await expect(dialog).toHaveCount(0);

  const view = page.getByTestId('chat-view');
  await expect(view).toHaveAttribute('data-peer', room);
  await expect(view.getByTestId('chat-peer')).toHaveText('climbing');
  await expect(view.getByTestId('room-state')).toHaveAttribute('data-state', 'joined');
  const row = page.locator(`[data-testid=conversation][data-peer="${room}"]`);
  await expect(row).toHaveAttribute('data-kind', 'groupchat');
  await expect(row.getByTestId('conversation-room')).toBeVisible();

  // The room now exists: the service lists it for browsing.
  await page.getByTestId('join-room-button').click();
  await dialog.getByText('Browse rooms on a service').click();
  await dialog.getByTestId('join-room-browse').click();
  await dialog.locator(`[data-testid=join-room-listed][data-jid="${room}"]`).click();
  await expect(dialog.getByTestId('join-room-address')).toHaveValue(room);
  await dialog.getByText('Cancel').click();

  await enter(raw.bob!, 'bob');
  await enter(raw.carol!, 'carol');
  await enter(raw.dave!, 'dave');
  // Alice owns the room; the subject she sets comes back from the room to the header.
  await page.evaluate(async (jid) => {
    const api = (window as unknown as { heron: HeronApi }).heron;
    const [account] = await api.invoke('accounts.list', {});
    await api.invoke('rooms.setSubject', { accountId: account!.id, room: jid, subject: 'Sunday at the crag' });
  }, room);
  await expect(view.getByTestId('room-subject')).toHaveText('Sunday at the crag');
  await raw.bob!.send(xml('message', { to: room, type: 'groupchat', id: 'b1' }, xml('body', {}, 'Who brings the rope?')));
  await raw.carol!.send(xml('message', { to: room, type: 'groupchat', id: 'c1' }, xml('body', {}, 'I can, and quickdraws too.')));
  const messages = view.getByTestId('message');
  await expect(messages.filter({ hasText: 'Who brings the rope?' }).getByTestId('message-nick')).toHaveText('bob');
  const carolNick = messages.filter({ hasText: 'quickdraws' }).getByTestId('message-nick');
  await expect(carolNick).toHaveText('carol');
  // XEP-0392: bob and carol are told apart by colour, the same in every client.
  const colours = await Promise.all(['bob', 'carol'].map((nick) => view.locator(`[data-testid=message-nick]:text-is("${nick}")`).evaluate((el) => getComputedStyle(el).color)));
  expect(colours[0]).not.toBe(colours[1]);

  const heard = nextStanza(raw.bob!, (s: Element) => s.is('message') && s.attrs.type === 'groupchat' && s.getChildText('body') === 'Bob, you bring the rope.');
  await page.getByTestId('composer').fill('Bob, you bring the rope.');
  await page.getByTestId('composer').press('Enter');
  expect((await heard).attrs.from).toBe(`${room}/Alice`);
  await expect(messages.filter({ hasText: 'you bring the rope' })).toHaveAttribute('data-direction', 'out');

  await view.getByTestId('details-toggle').click();
  const list = page.getByTestId('occupant-list');
  await expect(list).toHaveAttribute('data-count', '4');
  await expect(list.locator('[data-testid=occupant-group][data-role=moderator]')).toHaveText('Moderators — 1');
  await expect(list.locator('[data-testid=occupant-group][data-role=participant]')).toHaveText('Participants — 3');
  await expect(list.locator('[data-testid=occupant][data-nick=Alice]')).toHaveAttribute('data-role', 'moderator');
  await expect(list.locator('[data-testid=occupant][data-nick=bob]')).toHaveAttribute('data-role', 'participant');
  await expect(view.getByTestId('room-state')).toHaveText('4 people');

  // The room's lock: this open room hides its occupants' addresses, so encryption is refused in words.
  const lock = view.getByTestId('chat-encryption');
  await expect(lock).toHaveAttribute('aria-pressed', 'false');
  await lock.click();
  await expect(page.getByRole('alert').filter({ hasText: 'Could not turn on encryption' })).toContainText('Encryption needs a non-anonymous room');
  await expect(lock).toHaveAttribute('aria-pressed', 'false');

  for (const theme of ['light', 'dark'] as const) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    await page.screenshot({ path: testInfo.outputPath(`room-${theme}.png`) });
  }
  await page.evaluate(() => (document.documentElement.dataset.theme = 'system'));

  // Someone leaves: gone from the list at once.
  await raw.dave!.send(xml('presence', { to: `${room}/dave`, type: 'unavailable' }));
  await expect(list).toHaveAttribute('data-count', '3');
  await expect(list.locator('[data-testid=occupant][data-nick=dave]')).toHaveCount(0);
});

test('bookmark with autojoin, a new nick, and leaving; a refusal is said in words', async ({ page }) => {
  await openWindow(page);
  await page.locator(`[data-testid=conversation][data-peer="${room}"]`).click();
  const view = page.getByTestId('chat-view');
  await expect(view.getByTestId('room-state')).toHaveAttribute('data-state', 'joined');
  if (!(await page.getByTestId('room-details').isVisible())) await view.getByTestId('details-toggle').click();
  const details = page.getByTestId('room-details');

  await details.getByTestId('room-autojoin').check();
  await expect(details.getByTestId('room-bookmark')).toBeChecked();
  const bookmarks = await page.evaluate(async () => {
    const api = (window as unknown as { heron: HeronApi }).heron;
    const [account] = await api.invoke('accounts.list', {});
    return api.invoke('bookmarks.list', { accountId: account!.id });
  });
  expect(bookmarks).toEqual([expect.objectContaining({ jid: room, autojoin: true, nick: 'Alice' })]);

  // A nick someone has is refused by the room, and the window says so.
  await details.getByTestId('room-nick').fill('bob');
  await details.getByTestId('room-nick-save').click();
  await expect(details.getByTestId('room-details-error')).toContainText('Could not change your nickname');
  await details.getByTestId('room-nick').fill('Ali');
  await details.getByTestId('room-nick-save').click();
  await expect(page.locator('[data-testid=occupant][data-nick=Ali]')).toBeVisible();
  await expect(page.locator('[data-testid=occupant][data-nick=Alice]')).toHaveCount(0);

  await details.getByTestId('room-leave').click();
  await expect(view.getByTestId('room-state')).toHaveAttribute('data-state', 'left');
  await expect(view.getByTestId('room-left-banner')).toBeVisible();
  await expect(page.getByTestId('occupant-list')).toHaveCount(0);
  await view.getByTestId('room-rejoin').click();
  await expect(view.getByTestId('room-state')).toHaveAttribute('data-state', 'joined');
});

test('alice invites erin, erin is asked in her window and joins, and they talk; a stranger’s invitation waits with the requests', async ({ page, browser }, testInfo) => {
  await openWindow(page);
  const erin = await browser.newPage();
  await openWindow(erin, erinHost);
  await page.locator(`[data-testid=conversation][data-peer="${room}"]`).click();
  const view = page.getByTestId('chat-view');
  await expect(view.getByTestId('room-state')).toHaveAttribute('data-state', 'joined');
  if (!(await page.getByTestId('room-details').isVisible())) await view.getByTestId('details-toggle').click();

  await page.getByTestId('room-invite-jid').fill(jids.erin!);
  await page.getByTestId('room-invite-send').click();
  await expect(page.getByTestId('room-invite-sent')).toHaveText(`Invitation sent to ${jids.erin}.`);

  // Erin is asked first: nothing joined until she says so.
  const prompt = erin.getByTestId('room-invite-prompt');
  await expect(prompt.getByTestId('room-invite')).toHaveAttribute('data-room', room);
  await expect(prompt).toContainText(`invites you to the room ${room}`);
  await expect(erin.locator(`[data-testid=conversation][data-peer="${room}"]`)).toHaveCount(0);
  await erin.screenshot({ path: testInfo.outputPath('invite-prompt.png') });
  await prompt.getByTestId('room-invite-accept').click();
  await expect(prompt).toHaveCount(0);
  const erinView = erin.getByTestId('chat-view');
  await expect(erinView).toHaveAttribute('data-peer', room);
  await expect(erinView.getByTestId('room-state')).toHaveAttribute('data-state', 'joined');
  await expect(page.locator('[data-testid=occupant][data-nick=erin]')).toBeVisible();

  await erin.getByTestId('composer').fill('Thanks for the invite!');
  await erin.getByTestId('composer').press('Enter');
  await expect(view.getByTestId('message').filter({ hasText: 'Thanks for the invite!' }).getByTestId('message-nick')).toHaveText('erin');
  await page.getByTestId('composer').fill('Welcome, erin.');
  await page.getByTestId('composer').press('Enter');
  const welcome = erinView.getByTestId('message').filter({ hasText: 'Welcome, erin.' });
  await expect(welcome).toHaveAttribute('data-direction', 'in');
  // It names her: highlighted in her window.
  await expect(welcome).toHaveAttribute('data-mention', 'true');
  await erin.screenshot({ path: testInfo.outputPath('mention.png') });

  // Erin looks at her chat with alice; the room notifies her only where she is named.
  await erin.getByTestId('nav-contacts').click();
  await erin.locator(`[data-testid=contact][data-jid="${jids.alice}"]`).click();
  await expect(erinView).toHaveAttribute('data-peer', jids.alice!);
  const decisions = async () => ((await erinHost!.control({ notifications: true })) as NotificationRecord).decisions;
  const before = (await decisions()).length;
  await page.getByTestId('composer').fill('The crag opens at nine.');
  await page.getByTestId('composer').press('Enter');
  await page.getByTestId('composer').fill('ERIN: can you drive?');
  await page.getByTestId('composer').press('Enter');
  const [plain, mention] = await until('both room messages decided in erin’s Heron', async () => {
    const list = (await decisions()).slice(before);
    return list.length >= 2 ? list : undefined;
  });
  expect(plain!.decision).toEqual({ kind: 'none', reason: 'not-mentioned' });
  expect(mention!.decision).toEqual({
    kind: 'notify',
    notice: expect.objectContaining({ title: expect.stringContaining(`(${room})`), body: 'ERIN: can you drive?', conversationId: mention!.conversationId }),
  });

  // Dave is no contact of erin's: his invitation is no prompt; it waits with the message requests.
  await raw.dave!.send(xml('message', { to: jids.erin! }, xml('x', { xmlns: 'jabber:x:conference', jid: `spam@conference.${server.domain}`, reason: 'Free crypto' })));
  await erin.getByTestId('all-accounts').click();
  await expect(erin.getByTestId('requests-count')).toHaveText('1');
  await expect(erin.getByTestId('room-invite-prompt')).toHaveCount(0);
  await erin.getByTestId('requests-entry').click();
  const waiting = erin.getByTestId('stranger-invites').getByTestId('room-invite');
  await expect(waiting).toHaveAttribute('data-inviter', jids.dave!);
  await expect(waiting.getByTestId('room-invite-reason')).toHaveText('“Free crypto”');
  await erin.screenshot({ path: testInfo.outputPath('stranger-invite.png') });
  await waiting.getByTestId('room-invite-decline').click();
  await expect(erin.getByTestId('stranger-invites')).toHaveCount(0);
  await erin.close();
});
