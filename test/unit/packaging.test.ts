// electron-builder.yml checked without packaging: `electron-builder --dir` needs the Electron
// binary, which cannot be downloaded here. So the config goes through electron-builder's own
// schema validation, its contents are checked against what each package must hold, and the
// icons against electron-builder's own size rules.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { decideUpdates } from '../../main/shell/updates';
import { trayIconFile } from '../../main/shell/tray';
import { loadBuilderConfig, repoRoot } from './builder-config';

const require = createRequire(import.meta.url);
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { getPngSize } = require('app-builder-lib/out/util/iconConverter.js') as {
  getPngSize(file: string): Promise<{ width: number; height: number }>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

type Config = {
  files: string[];
  asarUnpack: string[];
  npmRebuild: boolean;
  publish: unknown;
  protocols: Array<{ schemes: string[] }>;
  linux: { target: string[]; icon: string; desktop: { entry: Record<string, string> }; mimeTypes?: string[] };
  deb: { depends: string[] };
  rpm: { depends: string[] };
  mac: { target: string; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string; icon: string };
  win: { target: string; icon: string };
  extraResources: Array<{ from: string; to: string; filter: string[] }>;
};
const config = loadBuilderConfig() as unknown as Config;

describe('electron-builder.yml', () => {
  it('passes electron-builder’s own schema validation, which refuses a misspelt key', async () => {
    await expect(validateConfiguration(loadBuilderConfig(), new DebugLogger(false))).resolves.toBeUndefined();
    const misspelt = { ...loadBuilderConfig(), linux: { ...config.linux, targets: ['AppImage'] } };
    await expect(validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(/configuration\.linux/);
  });

  it('builds AppImage, deb and rpm for Linux, nsis for Windows and dmg for macOS', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb', 'rpm']);
    expect(config.win.target).toBe('nsis');
    expect(config.mac.target).toBe('dmg');
  });

  it('makes the deb and rpm depend on the Secret Service library keytar needs, besides what Electron needs', () => {
    expect(config.deb.depends).toEqual(expect.arrayContaining(['libsecret-1-0', 'libgtk-3-0', 'libnss3', 'libnotify4', 'xdg-utils']));
    expect(config.rpm.depends).toEqual(expect.arrayContaining(['libsecret', 'gtk3', 'nss', 'libnotify', 'xdg-utils']));
  });

  it('registers xmpp: links: electron-builder writes x-scheme-handler/xmpp into the .desktop file from protocols', () => {
    expect(config.protocols.flatMap((protocol) => protocol.schemes)).toEqual(['xmpp']);
    // electron-builder adds each protocol scheme to MimeType itself (LinuxTargetHelper); listing it
    // again under linux.mimeTypes would write it twice.
    expect(config.linux.mimeTypes ?? []).not.toContain('x-scheme-handler/xmpp');
  });

  it('packs only the build output, and unpacks and rebuilds the native modules for Electron', () => {
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'dist/**', '!dist/host/**', '!dist/**/*.map']));
    expect(config.asarUnpack).toContain('**/*.node');
    expect(config.npmRebuild).toBe(true);
  });

  it('has no update feed unless a build is given one', () => {
    expect(config.publish).toBeNull();
  });

  it('signs for macOS with the hardened runtime and only the JIT entitlement V8 needs', () => {
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.entitlementsInherit).toBe(config.mac.entitlements);
    const plist = readFileSync(`${repoRoot}/${config.mac.entitlements}`, 'utf8');
    const granted = [...plist.matchAll(/<key>([^<]+)<\/key>\s*<true\/>/g)].map((match) => match[1]);
    expect(granted).toEqual(['com.apple.security.cs.allow-jit']);
  });

  it('has the icons electron-builder needs: 1024 px for icns and ico, and the Linux theme sizes', async () => {
    expect(config.mac.icon).toBe('build/icon.png');
    expect(config.win.icon).toBe('build/icon.png');
    expect(await getPngSize(`${repoRoot}/build/icon.png`)).toEqual({ width: 1024, height: 1024 });
    for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) {
      const file = `${repoRoot}/${config.linux.icon}/${size}x${size}.png`;
      expect(existsSync(file), file).toBe(true);
      expect(await getPngSize(file), file).toEqual({ width: size, height: size });
    }
  });

  it('ships the tray icons, each size with its @2x, where the packaged shell looks for them', async () => {
    const shipped = config.extraResources.find((resource) => resource.from === 'build/tray');
    expect(shipped).toEqual({ from: 'build/tray', to: 'tray', filter: ['*.png'] });
    for (const variant of ['normal', 'unread', 'offline']) {
      for (const size of [16, 32, 48]) {
        for (const [suffix, pixels] of [['', size], ['@2x', size * 2]] as const) {
          const file = `${repoRoot}/build/tray/tray-${variant}-${size}${suffix}.png`;
          expect(existsSync(file), file).toBe(true);
          expect(await getPngSize(file), file).toEqual({ width: pixels, height: pixels });
        }
      }
    }
    // The file the packaged shell opens is one of them, under resources/<to>; a checkout opens it in build/tray.
    for (const platform of ['linux', 'win32', 'darwin'] as const) {
      const packaged = trayIconFile('unread', { packaged: true, resourcesPath: '/opt/Heron/resources', appRoot: '/x', platform, join: path.posix.join });
      expect(path.posix.dirname(packaged)).toBe(`/opt/Heron/resources/${shipped!.to}`);
      expect(existsSync(`${repoRoot}/build/tray/${path.posix.basename(packaged)}`), packaged).toBe(true);
      const checkout = trayIconFile('unread', { packaged: false, resourcesPath: '/nowhere', appRoot: repoRoot, platform, join: path.join });
      expect(existsSync(checkout), checkout).toBe(true);
    }
  });
});

describe('decideUpdates', () => {
  const packaged = { isPackaged: true, platform: 'win32' as const, feedConfigured: true, env: {} };

  it('checks in a packaged build with a feed: Windows, macOS, a Linux AppImage', () => {
    expect(decideUpdates(packaged)).toEqual({ check: true });
    expect(decideUpdates({ ...packaged, platform: 'darwin' })).toEqual({ check: true });
    expect(decideUpdates({ ...packaged, platform: 'linux', env: { APPIMAGE: '/home/u/Heron.AppImage' } })).toEqual({ check: true });
  });

  it('stays off without a feed, in development, when switched off, and for deb or rpm installs', () => {
    expect(decideUpdates({ ...packaged, feedConfigured: false })).toEqual({ check: false, reason: 'no update feed configured' });
    expect(decideUpdates({ ...packaged, isPackaged: false })).toEqual({ check: false, reason: 'not a packaged build' });
    expect(decideUpdates({ ...packaged, env: { HERON_DISABLE_UPDATES: '1' } })).toMatchObject({ check: false });
    expect(decideUpdates({ ...packaged, platform: 'linux' })).toMatchObject({ check: false, reason: expect.stringContaining('package manager') });
  });
});
