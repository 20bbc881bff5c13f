// The composer and finding things, end to end in the window against a real Prosody that
// allows in-band registration: alice creates her account on first run, writes with Enter,
// Shift+Enter, shortcodes, the emoji picker and plain-text paste, keeps a draft across chats,
// goes to chats with the quick switcher, finds a message by search and opens it in context,
// adds a contact who accepts, blocks and unblocks a stranger, and holds a conversation with
// the keyboard alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xml from '@xmpp/xml';
import { expect, test, type Page } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, testKeychainService, type TestCore } from '../support/cores';
import { befriend, connectRaw, type RawClient } from '../support/raw-client';
import { startHostProcess, type HostProcess } from '../support/host-process';

let server: TestServer;
let host: HostProcess | undefined;
let bob: TestCore;
let carol: TestCore;
let carolId: string;
const raws: RawClient[] = [];
const jids: Record<string, string> = {};

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  server = await startProsody({ allowRegistration: true });
  for (const local of ['bob', 'carol', 'spammer']) jids[local] = await server.register(local, `${local}-pw`);
  jids.alice = `alice@${server.domain}`;
  bob = await startCore({ server });
  const bobAccount = await bob.call('accounts.add', accountFor(server, jids.bob!, 'bob-pw'));
  await bob.waitForState(bobAccount.id, (a) => a.connection.state === 'online');
  carol = await startCore({ server });
  carolId = (await carol.call('accounts.add', accountFor(server, jids.carol!, 'carol-pw'))).id;
  await carol.waitForState(carolId, (a) => a.connection.state === 'online');
  const aliceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-alice-'));
  host = await startHostProcess({ dataDir: aliceDir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
});

test.afterAll(async () => {
  for (const raw of raws) await raw.stop();
  await host?.stop();
  await bob?.core.close();
  await carol?.core.close();
  await server?.stop();
});

const composer = (page: Page) => page.getByTestId('composer');
const bobReceives = (body: string) => bob.waitFor('message.added', (m) => m.direction === 'in' && m.body === body);

/** Opens the window and waits until alice is online (the keys work once the app has loaded). */
async function load(page: Page): Promise<void> {
  await page.goto(host!.url);
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');
  // The window's keys (Ctrl+K and the rest) listen once its lists are loaded: the account shows sooner.
  await expect(page.getByRole('main').getByRole('status').filter({ hasText: 'Loading…' })).toHaveCount(0);
}

async function openWithSwitcher(page: Page, typed: string): Promise<void> {
  await page.keyboard.press('ControlOrMeta+k');
  await expect(page.getByTestId('quick-switcher-input')).toBeFocused();
  await page.keyboard.type(typed);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('quick-switcher')).toHaveCount(0);
}

test('first run: alice creates her account by in-band registration', async ({ page }, testInfo) => {
  await page.goto(host!.url);
  await page.getByText('Create an account').click();
  await page.getByTestId('register-domain').fill(server.domain);
  await page.getByText('Advanced').click();
  await page.getByTestId('register-host').fill(server.host);
  await page.getByTestId('register-port').fill(String(server.port));
  await page.getByTestId('register-continue').click();

  // The server's own form, field by field.
  const form = page.getByTestId('register-form');
  await expect(form.getByTestId('register-field-username')).toBeFocused();
  await expect(form.getByTestId('register-field-password')).toHaveAttribute('type', 'password');
  await page.screenshot({ path: testInfo.outputPath('registration-form.png') });
  await page.setViewportSize({ width: 800, height: 600 });
  await page.screenshot({ path: testInfo.outputPath('registration-form-800x600.png') });
  await page.setViewportSize({ width: 1280, height: 800 });

  // A name that is taken is refused in words, on the username field.
  await form.getByTestId('register-field-username').fill('bob');
  await form.getByTestId('register-field-password').fill('alice-pw');
  await form.getByTestId('register-submit').click();
  await expect(page.getByTestId('register-error')).toContainText('“bob” is already taken');
  await expect(form.getByTestId('register-field-username')).toHaveAttribute('aria-invalid', 'true');
  await page.screenshot({ path: testInfo.outputPath('registration-taken.png') });

  await form.getByTestId('register-field-username').fill('alice');
  await form.getByTestId('register-submit').click();
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');
  // The account works on the server: bob, made a contact, appears in her list.
  await befriend(server, { jid: jids.alice!, password: 'alice-pw' }, { jid: jids.bob!, password: 'bob-pw' });
  await page.getByTestId('nav-contacts').click();
  await expect(page.locator(`[data-testid=contact][data-jid="${jids.bob}"]`)).toBeVisible();
});

test('writing: Enter sends, Shift+Enter breaks the line, shortcodes, the emoji picker, plain paste, drafts', async ({ page }, testInfo) => {
  await load(page);
  await openWithSwitcher(page, 'bob');
  await expect(page.getByTestId('chat-view')).toHaveAttribute('data-peer', jids.bob!);
  await expect(composer(page)).toBeFocused();

  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  const box = await composer(page).boundingBox();
  expect(box!.height).toBeGreaterThan(45); // grown to two lines
  const twoLines = bobReceives('line one\nline two');
  await page.keyboard.press('Enter');
  await twoLines;
  await expect(composer(page)).toHaveValue('');

  // ":thu" offers thumbs up; Tab takes it.
  await page.keyboard.type('great :thu');
  await expect(page.getByTestId('shortcode-option').first()).toContainText(':thumbsup:');
  await page.screenshot({ path: testInfo.outputPath('shortcode-completion.png') });
  await page.keyboard.press('Tab');
  await expect(composer(page)).toHaveValue('great 👍 ');
  // A complete known code turns into its emoji as the closing colon is typed.
  await page.keyboard.type(':tada:');
  await expect(composer(page)).toHaveValue('great 👍 🎉');

  // The picker: search, arrows, Enter; the focus comes back to the text.
  await page.getByTestId('emoji-button').click();
  await expect(page.getByTestId('emoji-search')).toBeFocused();
  await page.keyboard.type('heart');
  await page.screenshot({ path: testInfo.outputPath('emoji-picker.png') });
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('emoji-picker')).toHaveCount(0);
  await expect(composer(page)).toBeFocused();
  await page.getByTestId('emoji-button').click();
  await page.keyboard.type('red heart');
  await page.keyboard.press('Enter');
  await expect(composer(page)).toHaveValue('great 👍 🎉❤️');
  await expect(composer(page)).toBeFocused();
  const withEmoji = bobReceives('great 👍 🎉❤️');
  await page.keyboard.press('Enter');
  await withEmoji;

  // Paste puts in the plain text only, whatever else the clipboard holds.
  await composer(page).evaluate((el) => {
    const data = new DataTransfer();
    data.setData('text/html', '<b>bold</b><img src=x>');
    data.setData('text/plain', 'pasted\r\ntext');
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  });
  await expect(composer(page)).toHaveValue('pasted\ntext');

  // The draft stays with bob's chat while alice is elsewhere.
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('half a thought');
  await page.getByTestId('start-chat-jid').fill(jids.carol!);
  await page.getByTestId('start-chat-submit').click();
  await expect(page.getByTestId('chat-view')).toHaveAttribute('data-peer', jids.carol!);
  await expect(composer(page)).toHaveValue('');
  await openWithSwitcher(page, 'bob');
  await expect(composer(page)).toHaveValue('half a thought');
  await composer(page).fill('');
  // Cleared and left: no draft is kept for bob (drafts are stored, so the next test starts clean).
  await openWithSwitcher(page, 'carol');
  await expect(page.locator(`[data-testid=conversation][data-peer="${jids.bob}"]`).getByTestId('conversation-draft')).toHaveCount(0);
});

test('quick switcher: fuzzy over chats and contacts, Escape gives the focus back', async ({ page }, testInfo) => {
  await load(page);
  await openWithSwitcher(page, 'bob');
  await expect(composer(page)).toBeFocused();
  await page.keyboard.press('ControlOrMeta+k');
  const switcher = page.getByTestId('quick-switcher');
  await page.keyboard.type('crl');
  await expect(switcher.getByTestId('quick-switcher-item')).toHaveCount(1);
  await expect(switcher.getByTestId('quick-switcher-item')).toContainText(jids.carol!);
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await expect(switcher.getByTestId('quick-switcher-item')).toHaveCount(2);
  await page.screenshot({ path: testInfo.outputPath('quick-switcher.png') });
  // Tab stays inside the dialog.
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  expect(await page.evaluate(() => Boolean(document.activeElement?.closest('[data-testid=quick-switcher]')))).toBe(true);
  await page.keyboard.press('Escape');
  await expect(switcher).toHaveCount(0);
  await expect(composer(page)).toBeFocused();
});

test('search finds a message across accounts and opens it in context; search within the chat', async ({ page }, testInfo) => {
  const [conversation] = await bob.call('conversations.list', {});
  // Enough after the hit that the chat, opened at the latest, does not show it.
  const later = Array.from({ length: 30 }, (_, i) => `Later line ${i + 1}`);
  for (const body of ['Before the umbrella', 'The blue umbrella is in the hall', 'After the umbrella talk', ...later, 'Something else entirely']) {
    await bob.call('messages.send', { conversationId: conversation!.id, body });
  }
  await load(page);
  await openWithSwitcher(page, 'bob');
  await expect(page.getByTestId('message-body').filter({ hasText: 'Something else entirely' })).toBeVisible();
  const hitRow = page.getByTestId('message-row').filter({ has: page.getByTestId('message-body').filter({ hasText: 'The blue umbrella is in the hall' }) });
  await expect(hitRow).not.toBeInViewport();

  await page.keyboard.press('ControlOrMeta+Shift+f');
  const search = page.getByTestId('search-view');
  await expect(page.getByTestId('search-input')).toBeFocused();
  await page.keyboard.type('blue umbr*');
  await page.keyboard.press('Enter');
  const hit = search.getByTestId('search-hit');
  await expect(hit).toHaveCount(1);
  await expect(hit.locator('mark')).toHaveText(['blue', 'umbrella']);
  await hit.click();
  await expect(search.getByTestId('search-context-hit')).toContainText('The blue umbrella is in the hall');
  await expect(search.getByTestId('search-context')).toContainText('Before the umbrella');
  await expect(search.getByTestId('search-context')).toContainText('After the umbrella talk');
  await page.screenshot({ path: testInfo.outputPath('search.png') });
  await search.getByTestId('search-show-in-chat').click();
  await expect(search).toHaveCount(0);
  await expect(page.getByTestId('chat-view')).toHaveAttribute('data-peer', jids.bob!);
  // The hit in the chat: scrolled into view and highlighted for a moment.
  await expect(hitRow).toBeInViewport();
  await expect(hitRow).toHaveClass(/\btarget\b/);
  await page.screenshot({ path: testInfo.outputPath('search-shown-in-chat.png') });
  await expect(hitRow).not.toHaveClass(/\btarget\b/, { timeout: 5000 });
  await expect(hitRow).toBeInViewport();

  // Within the open chat: the same search, scoped to it.
  await page.keyboard.press('ControlOrMeta+f');
  await expect(search.getByTestId('search-scope')).toBeVisible();
  await page.keyboard.type('"umbrella talk"');
  await page.keyboard.press('Enter');
  await expect(search.getByTestId('search-hit')).toHaveCount(1);
  await expect(search.getByTestId('search-hit')).toContainText('After the umbrella talk');
  await page.keyboard.press('Escape');
  await expect(search).toHaveCount(0);
});

test('alice adds carol, carol accepts on her side, and alice sees her online', async ({ page }) => {
  await load(page);
  await page.getByTestId('nav-contacts').click();
  await page.getByTestId('add-contact-button').click();
  const dialog = page.getByTestId('add-contact-dialog');
  await dialog.getByTestId('add-contact-jid').fill(jids.carol!);
  await dialog.getByTestId('add-contact-name').fill('Carol');
  await dialog.getByTestId('add-contact-submit').click();
  const row = page.locator(`[data-testid=contact][data-jid="${jids.carol}"]`);
  await expect(row.getByTestId('contact-status')).toHaveText('Waiting for approval');
  await carol.waitFor('requests.changed', (e) => e.added.some((r) => r.jid === jids.alice));
  await carol.call('requests.answer', { accountId: carolId, jid: jids.alice!, answer: 'approve' });
  await expect(row).toHaveAttribute('data-presence', 'available');
});

test('a stranger is blocked from message requests, then unblocked from the block list', async ({ page }, testInfo) => {
  await load(page);
  const spammer = await connectRaw(server, jids.spammer!, 'spammer-pw', 'bot');
  raws.push(spammer);
  await spammer.send(xml('presence'));
  await spammer.send(xml('message', { to: jids.alice, type: 'chat', id: 's1' }, xml('body', {}, 'Cheap watches')));
  await page.getByTestId('requests-entry').click();
  const request = page.locator(`[data-testid=request][data-jid="${jids.spammer}"]`);
  await request.getByTestId('request-block').click();
  await expect(request).toHaveCount(0);

  await page.getByTestId('nav-contacts').click();
  await page.getByTestId('open-block-list').click();
  const list = page.getByTestId('block-list');
  await expect(list.getByTestId('blocked-jid')).toHaveText([jids.spammer!]);
  await page.screenshot({ path: testInfo.outputPath('block-list.png') });
  await list.getByTestId('unblock').click();
  await expect(list.getByTestId('blocked-jid')).toHaveCount(0);
  await expect(list).toContainText('Nobody is blocked');
  await page.keyboard.press('Escape');
  await expect(list).toHaveCount(0);
  // Unblocked on the server: the list read again from it is empty.
  await page.getByTestId('open-block-list').click();
  await expect(page.getByTestId('block-list')).toContainText('Nobody is blocked');
});

test('a whole conversation with the keyboard alone', async ({ page }) => {
  await load(page);
  await page.keyboard.press('ControlOrMeta+k');
  await page.keyboard.type('bob');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await expect(composer(page)).toBeFocused();
  const hello = bobReceives('Keyboard only 👋 ');
  await page.keyboard.type('Keyboard only :wav');
  await page.keyboard.press('Enter'); // takes the offered emoji
  await page.keyboard.press('Enter'); // sends
  const received = await hello;
  await bob.call('messages.send', { conversationId: received.conversationId, body: 'Seen, no mouse needed' });
  await expect(page.getByTestId('message-body').filter({ hasText: 'Seen, no mouse needed' })).toBeVisible();
  await page.keyboard.type('Thanks');
  const thanks = bobReceives('Thanks');
  await page.keyboard.press('Enter');
  await thanks;
  await expect(composer(page)).toBeFocused();
});
