import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import type { HeronApi } from '../../preload/contract';
import { electronBinary } from '../../scripts/electron-binary.mjs';
import xml from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor } from '../support/cores';
import { befriend, connectRaw, type RawClient } from '../support/raw-client';
import { until } from '../support/until';

const root = fileURLToPath(new URL('../..', import.meta.url));
const binary = electronBinary();
const SKIP_REASON = 'no Electron binary (ELECTRON_SKIP_BINARY_DOWNLOAD) — run where Electron is installed';

if (binary === undefined) console.log(`skipped: ${SKIP_REASON}`);
test.skip(binary === undefined, SKIP_REASON);

// What the page sees; this file is type-checked without the renderer's DOM declarations.
type Page = typeof globalThis & { heron?: HeronApi; require?: unknown; process?: unknown };

let app: ElectronApplication;
let profile: string;
/** What the main process printed (its log). */
const output: string[] = [];

test.beforeAll(async () => {
  // Natives for Electron's ABI, and a fresh dist/ of what is being tested.
  execFileSync(process.execPath, ['scripts/native.mjs', 'electron'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  // A throwaway profile, so the test neither reads nor writes the user's own archive.
  profile = mkdtempSync(path.join(tmpdir(), 'heron-electron-'));
  app = await electron.launch({ executablePath: binary, args: [root, `--user-data-dir=${profile}`], cwd: root });
  app.on('console', (message) => output.push(message.text()));
});

test.afterAll(async () => {
  await app?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the window shows the Heron UI through the preload bridge', async () => {
  const page = await app.firstWindow();
  await expect(page).toHaveTitle(/Heron/);
  await expect(page.getByRole('main')).toBeVisible();
  await expect(page.getByText('Heron cannot reach its core')).toHaveCount(0);
});

test('window.heron answers commands and carries error codes', async () => {
  const page = await app.firstWindow();
  expect(await page.evaluate(() => (globalThis as Page).heron?.invoke('accounts.list', {}))).toEqual([]);
  const failure = await page.evaluate(() =>
    (globalThis as Page).heron
      ?.invoke('accounts.add', { jid: 'not an address', password: 'x' })
      .catch((error: Error & { code?: string }) => ({ isError: error instanceof Error, code: error.code })),
  );
  expect(failure).toEqual({ isError: true, code: 'invalid-payload' });
});

test('the page has no Node and cannot leave the app', async () => {
  const page = await app.firstWindow();
  const node = await page.evaluate(() => [typeof (globalThis as Page).require, typeof (globalThis as Page).process]);
  expect(node).toEqual(['undefined', 'undefined']);
  const url = page.url();
  // Listen in main for the navigation to be decided: the shell's own listener was added with
  // the window, so it has run (and refused) by the time this one hears of it.
  type Decided = { navigationDecided?: Promise<{ url: string; prevented: boolean }> };
  await app.evaluate(({ BrowserWindow }) => {
    (globalThis as Decided).navigationDecided = new Promise((resolve) => {
      BrowserWindow.getAllWindows()[0]!.webContents.once('will-frame-navigate', (event) => resolve({ url: event.url, prevented: event.defaultPrevented }));
    });
  });
  await page.evaluate(() => {
    location.href = 'file:///etc/hostname';
  });
  expect(await app.evaluate(() => (globalThis as Decided).navigationDecided)).toEqual({ url: 'file:///etc/hostname', prevented: true });
  expect(page.url()).toBe(url);
  expect(app.windows()).toHaveLength(1);
});

// The desktop citizen: tray, an xmpp: link from a second start, a notification's click. Alice's
// account talks to a real Prosody; its test CA is not trusted by the app, so the test trusts the
// server's certificate the way a user does (accounts.trustCertificate with the fingerprint shown).
test.describe('desktop', () => {
  let server: TestServer;
  let bob: RawClient | undefined;

  test.beforeAll(async () => {
    server = await startProsody();
    const alice = { jid: await server.register('alice', 'alice-pw'), password: 'alice-pw' };
    const bobAccount = { jid: await server.register('bob', 'bob-pw'), password: 'bob-pw' };
    await befriend(server, alice, bobAccount);
    const page = await app.firstWindow();
    const account = await page.evaluate((input) => (globalThis as Page).heron!.invoke('accounts.add', input), accountFor(server, alice.jid, alice.password));
    const refused = await until('the certificate refusal', async () => {
      const [view] = await page.evaluate(() => (globalThis as Page).heron!.invoke('accounts.list', {}));
      return view?.connection.certificate;
    });
    await page.evaluate(({ accountId, fingerprint }) => (globalThis as Page).heron!.invoke('accounts.trustCertificate', { accountId, fingerprint }), {
      accountId: account.id,
      fingerprint: refused.fingerprint,
    });
    await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');
    bob = await connectRaw(server, bobAccount.jid, bobAccount.password, 'phone');
  });

  test.afterAll(async () => {
    await bob?.stop();
    await server?.stop();
  });

  test('the tray icon is shown', async () => {
    await until('the tray', () => (output.join('').includes('heron: tray icon shown') ? true : undefined));
  });

  test('a message notifies; clicking the notification shows that conversation', async () => {
    const page = await app.firstWindow();
    type Shown = { heronShown?: Array<{ emit(event: string): void; title: string }> };
    const supported = await app.evaluate(({ Notification }) => {
      if (!Notification.isSupported()) return false;
      const shown: NonNullable<Shown['heronShown']> = [];
      (globalThis as Shown).heronShown = shown;
      const show = Notification.prototype.show;
      Notification.prototype.show = function (this: Electron.Notification) {
        shown.push(this as never);
        show.call(this);
      };
      return true;
    });
    const NO_NOTIFICATIONS = 'this desktop has no notification service (Notification.isSupported() is false)';
    if (!supported) console.log(`skipped: ${NO_NOTIFICATIONS}`);
    test.skip(!supported, NO_NOTIFICATIONS);
    // No chat is open yet: the message is news, and the click is what opens bob's chat.
    await expect(page.getByTestId('chat-view')).toHaveCount(0);
    const [alice] = await page.evaluate(() => (globalThis as Page).heron!.invoke('accounts.list', {}));
    await bob!.send(xml('message', { to: alice!.jid, type: 'chat', id: 'e1' }, xml('body', {}, 'Ping')));
    await until('a notification', () => app.evaluate(() => (globalThis as Shown).heronShown?.[0]?.title));
    await app.evaluate(() => (globalThis as Shown).heronShown![0]!.emit('click'));
    await expect(page.getByTestId('chat-view')).toHaveAttribute('data-peer', bob!.jid);
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.isVisible())).toBe(true);
  });

  test('an xmpp: link given to a second start asks in the window, then opens the chat', async () => {
    const page = await app.firstWindow();
    // Someone alice has no chat with yet, so the chat the link opens is a new one.
    const dave = `dave@${bob!.jid.split('@')[1]}`;
    const second = spawnSync(binary!, [root, `--user-data-dir=${profile}`, `xmpp:${dave}?message;body=Hi%20from%20a%20link`], { cwd: root, timeout: 30_000 });
    // The second start hands its link over and quits at once.
    expect(second.status).toBe(0);
    const prompt = page.getByTestId('uri-prompt');
    await expect(prompt.getByTestId('uri-jid')).toHaveText(dave);
    await prompt.getByTestId('uri-confirm').click();
    await expect(page.getByTestId('chat-view')).toHaveAttribute('data-peer', dave);
    await expect(page.getByTestId('composer')).toHaveValue('Hi from a link');
  });
});
