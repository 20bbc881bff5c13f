// Builds the renderer (a Svelte 5 app) into dist/renderer. `base: './'` keeps every asset URL
// relative, so the same build loads from file:// in Electron and over the headless host's HTTP.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [svelte()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    // One CSS file and no inline styles, so the page's CSP needs no 'unsafe-inline'.
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
