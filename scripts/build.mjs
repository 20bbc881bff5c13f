// Builds what the app and the headless host run from, into dist/:
//   main/shell/main.ts  -> dist/main/main.cjs      Electron main process
//   preload/index.ts    -> dist/preload/preload.cjs sandboxed preload: must be ONE CommonJS file
//   main/host/bridge.ts -> dist/host/bridge.js     the page-side bridge of the headless host
//   main/host/cli.ts    -> dist/host/cli.mjs       the headless host itself
//   renderer/           -> dist/renderer/          by Vite (vite.config.ts)
// Native modules stay external: they are loaded from node_modules (unpacked from app.asar).
// electron-updater too: main loads it only when updates are on (main/shell/updates.ts).
// An entry whose source does not exist yet is reported and skipped.
import { existsSync, rmSync, statSync } from 'node:fs';
import { build } from 'esbuild';
import { build as buildRenderer } from 'vite';

const natives = ['better-sqlite3', 'keytar'];

const bundles = [
  {
    entry: 'main/shell/main.ts',
    outfile: 'dist/main/main.cjs',
    options: {
      platform: 'node',
      format: 'cjs',
      external: ['electron', 'electron-updater', ...natives],
      // import('keytar') becomes require(): the CommonJS loader is the one that knows app.asar.unpacked.
      supported: { 'dynamic-import': false },
    },
  },
  {
    entry: 'preload/index.ts',
    outfile: 'dist/preload/preload.cjs',
    // 'browser': a sandboxed preload has no Node built-ins, so importing one fails the build.
    options: {
      platform: 'browser',
      format: 'cjs',
      external: ['electron'],
      define: { HERON_CHANNELS: JSON.stringify(await contractChannels()) },
    },
  },
  {
    entry: 'main/host/bridge.ts',
    outfile: 'dist/host/bridge.js',
    options: { platform: 'browser', format: 'iife' },
  },
  {
    entry: 'main/host/cli.ts',
    outfile: 'dist/host/cli.mjs',
    options: {
      platform: 'node',
      format: 'esm',
      external: [...natives, 'ws'],
      // Bundled CommonJS dependencies call require(); an ES module has none of its own.
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    },
  },
];

rmSync('dist/main', { recursive: true, force: true });
rmSync('dist/preload', { recursive: true, force: true });
rmSync('dist/host', { recursive: true, force: true });

for (const { entry, outfile, options } of bundles) {
  if (!existsSync(entry)) {
    console.log(`build: skipped ${outfile} (${entry} does not exist yet)`);
    continue;
  }
  // keepNames stays off: it would wrap functions the preload hands to Electron as source text.
  await build({ entryPoints: [entry], outfile, bundle: true, target: 'es2023', sourcemap: true, logLevel: 'warning', ...options });
  console.log(`build: ${outfile} ${(statSync(outfile).size / 1024).toFixed(1)} kB`);
}

await buildRenderer({ logLevel: 'warn' });
console.log('build: dist/renderer');

/**
 * The IPC channel names, computed by the contract itself. The preload receives them as a
 * constant because importing the contract would bundle zod (hundreds of kB) into it.
 */
async function contractChannels() {
  const { outputFiles } = await build({
    entryPoints: ['preload/contract.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'warning',
  });
  const source = outputFiles[0].text;
  const contract = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
  return {
    commands: Object.fromEntries(contract.commandNames.map((name) => [name, contract.ipcCommandChannel(name)])),
    events: contract.IPC_EVENT_CHANNEL,
  };
}
