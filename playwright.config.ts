// End-to-end tests: the real renderer in Chromium, through the headless host, against a
// real Prosody. Here Debian's Chromium is used; elsewhere Playwright's own browser.
import fs from 'node:fs';
import { defineConfig } from '@playwright/test';

const systemChromium = process.env.HERON_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/e2e',
  timeout: 90_000,
  workers: 1,
  reporter: [['list']],
  use: {
    viewport: { width: 1200, height: 760 },
    launchOptions: {
      ...(fs.existsSync(systemChromium) ? { executablePath: systemChromium } : {}),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
    trace: 'retain-on-failure',
  },
});
