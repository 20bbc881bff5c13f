import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import type { HeronApi } from '../../preload/contract';
import { electronBinary } from '../../scripts/electron-binary.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const binary = electronBinary();
const SKIP_REASON = 'no Electron binary (ELECTRON_SKIP_BINARY_DOWNLOAD) — run where Electron is installed';

if (binary === undefined) console.log(`skipped: ${SKIP_REASON}`);
test.skip(binary === undefined, SKIP_REASON);

// What the page sees; this file is type-checked without the renderer's DOM declarations.
type Page = typeof globalThis & { heron?: HeronApi; require?: unknown; process?: unknown };

let app: ElectronApplication;
let profile: string;

test.beforeAll(async () => {
  // Natives for Electron's ABI, and a fresh dist/ of what is being tested.
  execFileSync(process.execPath, ['scripts/native.mjs', 'electron'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  // A throwaway profile, so the test neither reads nor writes the user's own archive.
  profile = mkdtempSync(path.join(tmpdir(), 'heron-electron-'));
  app = await electron.launch({ executablePath: binary, args: [root, `--user-data-dir=${profile}`], cwd: root });
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
  await page.evaluate(() => {
    location.href = 'file:///etc/hostname';
  });
  await page.waitForTimeout(500);
  expect(page.url()).toBe(url);
  expect(app.windows()).toHaveLength(1);
});
