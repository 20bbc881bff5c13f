// The Electron end-to-end test: the real app (main, preload, renderer, core) in a real Electron.
// It needs an Electron binary; without one the test reports itself skipped with the reason.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'test/electron',
  // Its own folder: Playwright empties its output folder, and the browser tests' screenshots must stay.
  outputDir: 'test-results/electron',
  timeout: 120_000,
  workers: 1,
  reporter: 'list',
  use: { trace: 'retain-on-failure' },
});
