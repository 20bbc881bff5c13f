// OMEMO end to end, in two windows against a real Prosody: alice and bob each use a headless
// host of their own, and bob's second device is a Heron core in this process. Encryption is on
// by default with bob (his device is known); alice turns it off and on again, sees his new device appear, compares its fingerprint with the one that
// device shows for itself and marks it verified; the lock states are right on both sides
// (encrypted, not encrypted, could not be decrypted), and the switch, the devices and the
// verify dialog are photographed in light and dark and checked by axe-core.
import xml from '@xmpp/xml';
import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { connectRaw } from '../support/raw-client';
import type { HostProcess } from '../support/host-process';
import { addAccountInWindow, expectNoSeriousAxeViolations, friendsInWindows, sendInWindow } from '../support/window';

test.describe.configure({ mode: 'serial', timeout: 180_000 });

let server: TestServer;
const hosts: HostProcess[] = [];
let alice: Page;
let bob: Page;
let bobPhone: TestCore | undefined;
let aliceJid: string;
let bobJid: string;

test.beforeAll(async ({ browser }) => {
  server = await startProsody();
  // Contacts: device lists reach those subscribed to the owner's presence (PEP +notify).
  ({ alice, bob, aliceJid, bobJid } = await friendsInWindows(browser, server, hosts, { viewport: { width: 1280, height: 860 } }));
});

test.afterAll(async () => {
  await bobPhone?.core.close();
  for (const host of hosts) await host.stop();
  await server?.stop();
});

const message = (page: Page, text: string): Locator => page.getByTestId('chat-view').getByTestId('message').filter({ hasText: text });
const lockOf = (page: Page, text: string): Locator => message(page, text).getByTestId('message-lock');
const lockSwitch = (page: Page): Locator => page.getByTestId('chat-encryption');

const send = sendInWindow;

async function shoot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: testInfo.outputPath(`${name}-${colorScheme}.png`) });
    await expectNoSeriousAxeViolations(page, `${name} ${colorScheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

test('alice opens her chat with bob: encrypted by default, his device listed; she turns it off and writes in clear', async () => {
  await addAccountInWindow(alice, { jid: aliceJid, password: 'alice-secret', host: server.host, port: server.port });
  await addAccountInWindow(bob, { jid: bobJid, password: 'bob-secret', host: server.host, port: server.port });
  await alice.getByTestId('start-chat-jid').fill(bobJid);
  await alice.getByTestId('start-chat-submit').click();

  // Bob's device list is known: the chat is encrypted without anyone touching the switch.
  await expect(lockSwitch(alice)).toHaveAttribute('aria-pressed', 'true');
  await expect(lockSwitch(alice)).toHaveAccessibleName('Turn off end-to-end encryption');
  await expect(alice.getByTestId('composer-encryption')).toHaveText('Encrypted with OMEMO');

  await alice.getByTestId('details-toggle').click();
  const details = alice.getByTestId('encryption-details');
  await expect(details.getByTestId('encryption-state')).toContainText('end-to-end encrypted');

  await lockSwitch(alice).click();
  await expect(lockSwitch(alice)).toHaveAttribute('aria-pressed', 'false');
  await expect(alice.getByTestId('composer-encryption')).toHaveText('Not encrypted');
  await expect(details.getByTestId('encryption-state')).toContainText('Encryption is off');
  await send(alice, 'Hello in clear');
  // Encryption is off: a plain message carries no lock mark.
  await expect(message(alice, 'Hello in clear')).toHaveAttribute('data-state', /sent|delivered|read/);
  await expect(lockOf(alice, 'Hello in clear')).toHaveCount(0);

  // Bob's Heron device, from his device list; its first list is not a "new device".
  const bobDevice = details.getByTestId('contact-devices').getByTestId('omemo-device');
  await expect(bobDevice).toHaveCount(1);
  await expect(bobDevice).toHaveAttribute('data-trust', 'blind');
  await expect(alice.getByTestId('new-device-banner')).toHaveCount(0);
  // This device's own fingerprints, in groups of eight.
  const own = details.getByTestId('own-device').getByTestId('fingerprint');
  await expect(own).toHaveCount(2);
  await expect(own.first().locator('span')).toHaveCount(8);
  await expect(own.first().locator('span').first()).toHaveText(/^[0-9a-f]{8}$/);
});

test('alice turns encryption back on: the composer says so, and bob reads her message as encrypted', async ({}, testInfo) => {
  await lockSwitch(alice).click();
  await expect(lockSwitch(alice)).toHaveAttribute('aria-pressed', 'true');
  await expect(lockSwitch(alice)).toHaveAccessibleName('Turn off end-to-end encryption');
  await expect(alice.getByTestId('composer-encryption')).toHaveText('Encrypted with OMEMO');
  await expect(alice.getByTestId('encryption-state')).toContainText('end-to-end encrypted');
  // The earlier message went in clear, and says so now that the chat is encrypted.
  await expect(lockOf(alice, 'Hello in clear')).toHaveAttribute('data-lock', 'plain');
  await expect(lockOf(alice, 'Hello in clear')).toHaveAccessibleName('Not encrypted');

  await send(alice, 'Only you can read this');
  await expect(message(alice, 'Only you can read this')).toHaveAttribute('data-state', /sent|delivered|read/);
  await expect(lockOf(alice, 'Only you can read this')).toHaveAttribute('data-lock', 'encrypted');
  // Bob's fingerprint became known with his bundle.
  await expect(alice.getByTestId('contact-devices').getByTestId('fingerprint').first()).toBeVisible();

  await bob.getByTestId('conversation').filter({ hasText: aliceJid }).click();
  await expect(lockOf(bob, 'Only you can read this')).toHaveAttribute('data-lock', 'encrypted');
  await expect(lockOf(bob, 'Only you can read this')).toHaveAccessibleName(/^Encrypted with OMEMO/);
  // Bob's own switch is his: on by default too (alice's device is known), and his composer says so;
  // alice's earlier message says it came in clear.
  await expect(lockSwitch(bob)).toHaveAttribute('aria-pressed', 'true');
  await expect(bob.getByTestId('composer-encryption')).toHaveText('Encrypted with OMEMO');
  await expect(lockOf(bob, 'Hello in clear')).toHaveAttribute('data-lock', 'plain');
  await shoot(alice, testInfo, 'encrypted-chat');
});

test('bob adds a device: alice is told, compares its fingerprint with the one it shows, and verifies it', async ({}, testInfo) => {
  bobPhone = await startCore({ server });
  const phoneAccount = await bobPhone.call('accounts.add', accountFor(server, bobJid, 'bob-secret'));
  await bobPhone.waitForState(phoneAccount.id, (a) => a.connection.state === 'online');

  const banner = alice.getByTestId('new-device-banner');
  await expect(banner).toContainText('has a new device');
  const newDevice = alice.getByTestId('contact-devices').locator('[data-testid=omemo-device][data-new]');
  await expect(newDevice).toHaveCount(1);
  await expect(newDevice.getByTestId('device-new')).toHaveText('New');
  await expect(newDevice).toBeInViewport();
  await shoot(alice, testInfo, 'new-device');

  // What the phone shows as its own fingerprint (its contact details, "This device").
  const phoneChat = await bobPhone.call('conversations.open', { accountId: phoneAccount.id, peer: aliceJid });
  const phone = await bobPhone.call('omemo.devices', { conversationId: phoneChat.id });
  expect(phone.deviceId).toBeDefined();
  await expect(newDevice).toHaveAttribute('data-device', String(phone.deviceId));

  // Alice's fingerprint for it is known once she writes to it (its bundle is fetched then).
  await send(alice, 'Welcome, new phone');
  // Its key in the version alice wrote with (OMEMO 2, which every Heron speaks) is the phone's own.
  const known = newDevice.getByTestId('fingerprint');
  await expect(known).toHaveCount(1);
  const version = (await known.getAttribute('data-version')) as 'omemo' | 'omemo2';
  const phoneFingerprint = phone.ownFingerprints.find((f) => f.version === version)!.fingerprint;
  await expect(known).toHaveAttribute('data-fingerprint', phoneFingerprint);

  await newDevice.getByTestId('device-verify').click();
  const dialog = alice.getByTestId('verify-dialog');
  await expect(dialog).toBeVisible();
  const shown = dialog.locator(`[data-testid=fingerprint][data-version=${version}]`);
  // The groups on alice's screen, read one by one, are the phone's own.
  expect(await shown.locator('span').allTextContents()).toHaveLength(8);
  expect((await shown.locator('span').allTextContents()).join('')).toBe(phoneFingerprint);
  await shoot(alice, testInfo, 'verify-dialog');
  await dialog.getByTestId('verify-confirm').click();
  await expect(dialog).toHaveCount(0);
  await expect(alice.locator(`[data-testid=omemo-device][data-device="${phone.deviceId}"]`)).toHaveAttribute('data-trust', 'verified');
  await expect(alice.locator(`[data-testid=omemo-device][data-device="${phone.deviceId}"]`).getByTestId('device-trust')).toHaveText('Verified');
  await expect(banner).toHaveCount(0);
  // The phone read what alice wrote to it, decrypted.
  const phoneCore = bobPhone;
  await expect
    .poll(async () => (await phoneCore.call('messages.page', { conversationId: phoneChat.id, limit: 20 })).messages.find((m) => m.body === 'Welcome, new phone')?.encryption)
    .toMatch(/^omemo/);
});

test('bob answers in clear with his switch off, encrypted with it on; a message nobody can decrypt says why', async ({}, testInfo) => {
  await lockSwitch(bob).click();
  await expect(bob.getByTestId('composer-encryption')).toHaveText('Not encrypted');
  await send(bob, 'Plain answer');
  await expect(lockOf(alice, 'Plain answer')).toHaveAttribute('data-lock', 'plain');
  await lockSwitch(bob).click();
  await expect(bob.getByTestId('composer-encryption')).toHaveText('Encrypted with OMEMO');
  await send(bob, 'Secret answer');
  await expect(lockOf(bob, 'Secret answer')).toHaveAttribute('data-lock', 'encrypted');
  await expect(lockOf(alice, 'Secret answer')).toHaveAttribute('data-lock', 'encrypted');

  // An encrypted message alice cannot read (malformed): shown, with the reason, never lost.
  const raw = await connectRaw(server, bobJid, 'bob-secret', 'broken');
  try {
    await raw.send(
      xml(
        'message',
        { to: aliceJid, type: 'chat', id: 'broken-1' },
        xml('body', {}, 'I sent you an OMEMO encrypted message but your client doesn’t seem to support that.'),
        xml('encrypted', { xmlns: 'eu.siacs.conversations.axolotl' }, xml('header', { sid: '4242' })),
      ),
    );
  } finally {
    await raw.stop();
  }
  const broken = alice.getByTestId('chat-view').getByTestId('message').filter({ has: alice.locator('[data-lock=undecryptable]') });
  await expect(broken).toHaveCount(1);
  await expect(broken.getByTestId('message-body')).toContainText('could not be decrypted');
  await expect(broken.getByTestId('message-lock')).toHaveAccessibleName('Could not be decrypted');

  await shoot(alice, testInfo, 'lock-states');
});

test('alice edits an encrypted message and bob reacts to it: both stay encrypted, and each sees the other’s change', async ({}, testInfo) => {
  const mine = message(alice, 'Only you can read this');
  await mine.hover();
  await mine.getByTestId('message-more').click();
  const menu = alice.getByTestId('message-menu').filter({ visible: true });
  await menu.getByTestId('menu-edit').click();
  const composer = alice.getByTestId('composer');
  await composer.fill('Only you can read this, edited');
  await composer.press('Enter');
  await expect(message(bob, 'Only you can read this, edited')).toHaveCount(1);
  await expect(lockOf(bob, 'Only you can read this, edited')).toHaveAttribute('data-lock', 'encrypted');

  const theirs = message(bob, 'Only you can read this, edited');
  await theirs.hover();
  await theirs.getByTestId('message-react').click();
  await bob.getByTestId('reaction-picker').getByTestId('quick-reaction').first().click();
  await expect(message(alice, 'Only you can read this, edited').locator('.reactions')).toContainText('👍');
  await shoot(alice, testInfo, 'encrypted-edit-reaction');
});
