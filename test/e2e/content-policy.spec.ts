// The page's Content-Security-Policy, sent as a header (main/shell/renderer-serving.ts), as a
// real Chromium enforces it: the headless host's page reaches its own WebSocket and nothing
// else, and runs no inline script. (eval cannot be tried from here: code the test evaluates
// through DevTools is exempt from the page's eval rule.) The app's heron://app/ policy
// is the same minus that WebSocket (test/unit/lockdown.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';

let host: HostProcess | undefined;
let dataDir: string;

test.beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-csp-'));
  host = await startHostProcess({ dataDir, keychainService: testKeychainService });
});

test.afterAll(async () => {
  await host?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('the page talks to its own host only and runs only its own scripts', async ({ page }) => {
  const response = await page.goto(host!.url);
  const origin = new URL(host!.url).origin;
  const policy = response?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain(`connect-src 'self' ws://${new URL(origin).host};`);
  expect(response?.headers()['x-content-type-options']).toBe('nosniff');
  // The page is up and reached the core over the one WebSocket the policy allows.
  await expect(page.getByRole('main')).toBeVisible();
  await expect(page.getByText('Heron cannot reach its core')).toHaveCount(0);

  const refused = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.effectiveDirective} ${event.blockedURI}`));
    const inline = document.createElement('script');
    inline.textContent = 'document.body.dataset.injected = "yes"';
    document.head.append(inline);
    const results = {
      otherSocket: await new Promise((resolve) => {
        const socket = new WebSocket('ws://127.0.0.1:9/');
        socket.onopen = () => resolve('open');
        socket.onerror = () => resolve('failed');
      }),
      otherFetch: await fetch('http://example.org/').then(
        () => 'ran',
        (error: Error) => error.name,
      ),
      injected: document.body.dataset.injected ?? 'no',
    };
    // Violation reports are queued as tasks.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { ...results, violations: [...new Set(violations)].sort() };
  });
  expect(refused).toEqual({
    otherSocket: 'failed',
    otherFetch: 'TypeError',
    injected: 'no',
    violations: ['connect-src http://example.org/', 'connect-src ws://127.0.0.1:9/', 'script-src-elem inline'],
  });
});
