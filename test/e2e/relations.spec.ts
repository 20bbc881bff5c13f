// Message relations end to end, in two windows against a real Prosody: alice and bob each
// use a headless host of their own. Typing seen by the peer; reply and jump to the original;
// edit (Up arrow, and the Edit action with a draft kept); reactions added, counted and taken
// back; delete for everyone. The actions toolbar, the reply and edit bars and the reactions
// are photographed in light and dark.
import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';
import type { HeronApi } from '../../preload/contract';
import { startProsody, type TestServer } from '../support/prosody';
import type { HostProcess } from '../support/host-process';
import { addAccountInWindow, expectNoSeriousAxeViolations, friendsInWindows, sendInWindow } from '../support/window';

// Two hosts, a browser and axe-core on a shared machine: more time than one window needs.
test.describe.configure({ mode: 'serial', timeout: 180_000 });

let server: TestServer;
const hosts: HostProcess[] = [];
let alice: Page;
let bob: Page;
let aliceJid: string;
let bobJid: string;

test.beforeAll(async ({ browser }) => {
  server = await startProsody();
  // Contacts: chat states go only to who may hear from us.
  ({ alice, bob, aliceJid, bobJid } = await friendsInWindows(browser, server, hosts, { permissions: ['clipboard-read', 'clipboard-write'] }));
});

test.afterAll(async () => {
  for (const host of hosts) await host.stop();
  await server?.stop();
});

const message = (page: Page, text: string): Locator => page.getByTestId('chat-view').getByTestId('message').filter({ hasText: text });
const composer = (page: Page): Locator => page.getByTestId('composer');

const send = sendInWindow;

/** Whether a message of this text (its body, not a quote of it) lies within the visible part of the message list. */
async function inView(page: Page, text: string): Promise<boolean> {
  return page.evaluate((text) => {
    const list = document.querySelector('[data-testid=message-list]')!.getBoundingClientRect();
    return Array.from(document.querySelectorAll('[data-testid=message-body]')).some((m) => {
      const box = m.getBoundingClientRect();
      return m.textContent!.includes(text) && box.bottom > list.top && box.top < list.bottom;
    });
  }, text);
}

/** A screenshot in the light and in the dark theme (the app follows the system by default); with `axe`, checked by axe-core in both. */
async function shoot(page: Page, testInfo: TestInfo, name: string, axe = false): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: testInfo.outputPath(`${name}-${colorScheme}.png`) });
    if (axe) await expectNoSeriousAxeViolations(page, `${name} ${colorScheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

test('alice and bob open their chat, each in a window of their own', async () => {
  await addAccountInWindow(alice, { jid: aliceJid, password: 'alice-secret', host: server.host, port: server.port });
  await addAccountInWindow(bob, { jid: bobJid, password: 'bob-secret', host: server.host, port: server.port });
  await alice.getByTestId('start-chat-jid').fill(bobJid);
  await alice.getByTestId('start-chat-submit').click();
  await send(alice, 'Hi Bob!');
  await bob.getByTestId('conversation').filter({ hasText: aliceJid }).click();
  await expect(message(bob, 'Hi Bob!')).toHaveAttribute('data-direction', 'in');
});

test('typing is seen by the peer, and gone once the message is sent', async () => {
  const typing = bob.getByTestId('typing-indicator');
  await expect(typing).toHaveAttribute('aria-live', 'polite');
  await expect(typing).toHaveText('');
  await composer(alice).pressSequentially('Are you free');
  await expect(typing).toHaveText(/is typing…/);
  await expect(typing).toContainText('alice');
  await composer(alice).press('Enter');
  await expect(message(bob, 'Are you free')).toBeVisible();
  await expect(typing).toHaveText('');

  // Clearing the text also stops it.
  await composer(alice).pressSequentially('hmm');
  await expect(typing).toHaveText(/is typing…/);
  await composer(alice).fill('');
  await composer(alice).dispatchEvent('input');
  await expect(typing).toHaveText('');
});

test('a reply shows its quote to the peer, and the quote jumps to the original in a long chat', async ({}, testInfo) => {
  await send(bob, 'Where shall we meet?');
  const original = message(alice, 'Where shall we meet?');
  await original.hover();
  await expect(original.getByTestId('message-actions')).toBeVisible();
  await shoot(alice, testInfo, 'actions-toolbar');
  await original.getByTestId('message-reply').click();

  const bar = alice.getByTestId('reply-bar');
  await expect(bar).toContainText(`Replying to ${bobJid}`);
  await expect(bar.getByTestId('intent-excerpt')).toHaveText('Where shall we meet?');
  await expect(composer(alice)).toBeFocused();
  await shoot(alice, testInfo, 'reply-bar', true);
  await composer(alice).press('Escape');
  await expect(bar).toHaveCount(0);

  // The keyboard way: the focused message's menu (Shift+F10), then Reply.
  await alice.locator('[data-row]').filter({ has: alice.getByText('Where shall we meet?') }).focus();
  await alice.keyboard.press('Shift+F10');
  const menu = alice.getByTestId('message-menu').filter({ visible: true });
  await expect(menu.getByTestId('menu-reply')).toBeFocused();
  await expect(menu.getByTestId('menu-edit')).toHaveCount(0); // not mine
  await shoot(alice, testInfo, 'actions-menu', true);
  await alice.keyboard.press('Enter');
  await expect(bar).toBeVisible();

  // Enough talk in between that the original scrolls out of bob's view.
  await alice.evaluate(async (peer) => {
    const api = (window as unknown as { heron: HeronApi }).heron;
    const conversation = (await api.invoke('conversations.list', {})).find((c) => c.peer === peer)!;
    for (let i = 1; i <= 30; i++) await api.invoke('messages.send', { conversationId: conversation.id, body: `Filler ${i}` });
  }, bobJid);
  await expect(message(bob, 'Filler 30')).toBeVisible();
  await composer(alice).fill('At the station, at five');
  await composer(alice).press('Enter');
  await expect(bar).toHaveCount(0);

  const reply = message(bob, 'At the station, at five');
  await expect(reply.getByTestId('reply-quote')).toContainText('Where shall we meet?');
  // The quote is the reply's own: the body shown is only the answer.
  await expect(reply.getByTestId('message-body')).toHaveText('At the station, at five');
  expect(await inView(bob, 'Where shall we meet?')).toBe(false);
  await reply.getByTestId('reply-quote').click();
  await expect.poll(() => inView(bob, 'Where shall we meet?')).toBe(true);
  await expect(bob.locator('[data-row].target')).toContainText('Where shall we meet?');
  await bob.getByTestId('jump-to-latest').click();
});

test('alice corrects her last message with the Up arrow; bob sees the new text marked edited', async ({}, testInfo) => {
  await send(alice, 'See you at 5');
  await expect(message(bob, 'See you at 5')).toBeVisible();
  await composer(alice).press('ArrowUp');
  const bar = alice.getByTestId('edit-bar');
  await expect(bar).toContainText('Editing');
  await expect(composer(alice)).toHaveValue('See you at 5');
  await composer(alice).fill('See you at 6');
  await shoot(alice, testInfo, 'edit-bar', true);
  await composer(alice).press('Enter');
  await expect(bar).toHaveCount(0);
  await expect(composer(alice)).toHaveValue('');

  const corrected = message(bob, 'See you at 6');
  await expect(corrected.getByTestId('message-edited')).toHaveText('edited');
  await expect(message(bob, 'See you at 5')).toHaveCount(0);
  await expect(message(alice, 'See you at 6').getByTestId('message-edited')).toBeVisible();

  // The Edit action on any of mine sets the draft aside; Escape brings it back unchanged.
  await composer(alice).fill('half a thought');
  const mine = message(alice, 'At the station');
  await mine.hover();
  await mine.getByTestId('message-more').click();
  await alice.getByTestId('message-menu').filter({ visible: true }).getByTestId('menu-edit').click();
  await expect(composer(alice)).toHaveValue('At the station, at five');
  await expect(composer(alice)).toBeFocused();
  await composer(alice).press('Escape');
  await expect(bar).toHaveCount(0);
  await expect(composer(alice)).toHaveValue('half a thought');
  await composer(alice).fill('');
  await expect(message(bob, 'At the station, at five').getByTestId('message-edited')).toHaveCount(0);
});

test('reactions: bob sees alice’s, both are counted, and taking one back removes it', async ({}, testInfo) => {
  await send(bob, 'Pizza tonight?');
  const pizza = message(alice, 'Pizza tonight?');
  await pizza.hover();
  await pizza.getByTestId('message-react').click();
  const picker = alice.getByTestId('reaction-picker').filter({ visible: true });
  await expect(picker.getByTestId('quick-reaction').first()).toBeFocused();
  await shoot(alice, testInfo, 'reaction-row');
  await picker.locator('[data-emoji="👍"]').click();

  const aliceChip = pizza.getByTestId('reaction').and(alice.locator('[data-emoji="👍"]'));
  await expect(aliceChip).toHaveAttribute('aria-pressed', 'true');
  const bobChip = message(bob, 'Pizza tonight?').getByTestId('reaction').and(bob.locator('[data-emoji="👍"]'));
  await expect(bobChip).toHaveText('👍1');
  await expect(bobChip).toHaveAttribute('title', aliceJid);
  await expect(bobChip).toHaveAttribute('aria-pressed', 'false');

  // Bob joins in with the chip; alice sees two, and who.
  await bobChip.click();
  await expect(aliceChip).toHaveText('👍2');
  await expect(aliceChip).toHaveAttribute('title', `You, ${bobJid}`);
  await expect(aliceChip).toHaveAttribute('aria-label', new RegExp(`👍 2: You, ${bobJid.replace('.', '\\.')}\\. Press to take yours back`));

  // One more from the full picker, reached through the menu this time.
  await pizza.hover();
  await pizza.getByTestId('message-more').click();
  await alice.getByTestId('message-menu').filter({ visible: true }).getByTestId('menu-react').click();
  await picker.getByTestId('more-reactions').click();
  await alice.getByTestId('emoji-search').fill('tada');
  await alice.getByTestId('emoji-search').press('Enter');
  await expect(message(bob, 'Pizza tonight?').getByTestId('reaction')).toHaveCount(2);
  await alice.mouse.move(0, 0);
  await shoot(alice, testInfo, 'reactions', true);

  // Alice takes her 👍 back: bob's own stays, counted once.
  await aliceChip.click();
  await expect(bobChip).toHaveText('👍1');
  await expect(bobChip).toHaveAttribute('aria-pressed', 'true');
  await expect(aliceChip).toHaveAttribute('aria-pressed', 'false');
  await bobChip.click();
  await expect(aliceChip).toHaveCount(0);
  await expect(bobChip).toHaveCount(0);
});

test('alice deletes a message for everyone after confirming; bob sees it deleted', async ({}, testInfo) => {
  // The toolbar and reply bar in a small window too.
  await alice.setViewportSize({ width: 800, height: 600 });
  const pizza = message(alice, 'Pizza tonight?');
  await pizza.hover();
  await pizza.getByTestId('message-reply').click();
  await expect(alice.getByTestId('reply-bar')).toBeVisible();
  await pizza.hover();
  await shoot(alice, testInfo, 'actions-800x600');
  await composer(alice).press('Escape');
  await alice.setViewportSize({ width: 1200, height: 760 });

  await send(alice, 'Oops, wrong chat');
  await expect(message(bob, 'Oops, wrong chat')).toBeVisible();
  const oops = message(alice, 'Oops, wrong chat');
  // Copy first: the text is still worth having elsewhere.
  await oops.hover();
  await oops.getByTestId('message-more').click();
  await alice.getByTestId('message-menu').filter({ visible: true }).getByTestId('menu-copy').click();
  await expect.poll(() => alice.evaluate(() => navigator.clipboard.readText())).toBe('Oops, wrong chat');

  await oops.hover();
  await oops.getByTestId('message-more').click();
  await alice.getByTestId('message-menu').filter({ visible: true }).getByTestId('menu-delete').click();
  const dialog = alice.getByTestId('delete-dialog');
  await expect(dialog).toBeVisible();
  await shoot(alice, testInfo, 'delete-dialog');
  // Cancel leaves it be.
  await dialog.getByText('Cancel').click();
  await expect(dialog).toHaveCount(0);
  await expect(oops.getByTestId('message-body')).toHaveText('Oops, wrong chat');

  await oops.hover();
  await oops.getByTestId('message-more').click();
  await alice.getByTestId('message-menu').filter({ visible: true }).getByTestId('menu-delete').click();
  await alice.getByTestId('delete-confirm').click();
  await expect(dialog).toHaveCount(0);
  await expect(alice.getByTestId('message-body').filter({ hasText: 'This message was deleted' })).toHaveCount(1);
  await expect(bob.getByTestId('message-body').filter({ hasText: 'This message was deleted' })).toHaveCount(1);
  await expect(message(bob, 'Oops, wrong chat')).toHaveCount(0);
});
