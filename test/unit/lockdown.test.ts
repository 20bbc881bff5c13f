// The lock-down list of issue 13, checked on what production builds: the window's options from
// mainWindowOptions, the session's handlers as lockDownSession installs them, the page's CSP
// as the scheme handler sends it, what confineContents lets a webContents do, and the fuse wire
// electron-builder makes from electron-builder.yml. Each item that is off fails a test.
import { readFileSync } from 'node:fs';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { PlatformPackager } from 'app-builder-lib';
import { describe, expect, it, vi } from 'vitest';
import { APP_CSP, APP_SCHEME, APP_SCHEME_REGISTRATION, APP_URL, type AppRequest } from '../../main/shell/app-protocol';
import { confineContents, lockDownSession, openLink, type LinkOpener } from '../../main/shell/lockdown';
import { mainWindowOptions } from '../../main/shell/window';
import { loadBuilderConfig, repoRoot } from './builder-config';

describe('the main window', () => {
  const options = mainWindowOptions('/app/dist/preload/preload.cjs', { x: 0, y: 0, width: 1100, height: 720 });
  const prefs = options.webPreferences ?? {};

  it('isolates a sandboxed page without Node, webviews or insecure content', () => {
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs.enableBlinkFeatures).toBeUndefined();
    expect(prefs.preload).toBe('/app/dist/preload/preload.cjs');
  });

  it('checks spelling, and opens hidden until its page is ready', () => {
    expect(prefs.spellcheck).toBe(true);
    expect(options.show).toBe(false);
  });
});

describe('the heron: scheme', () => {
  it('is standard and secure, and bypasses neither CSP nor CORS, nor registers service workers', () => {
    expect(APP_SCHEME_REGISTRATION.scheme).toBe(APP_SCHEME);
    const privileges = APP_SCHEME_REGISTRATION.privileges ?? {};
    expect(privileges.standard).toBe(true);
    expect(privileges.secure).toBe(true);
    expect(privileges.bypassCSP).not.toBe(true);
    expect(privileges.corsEnabled).not.toBe(true);
    expect(privileges.allowServiceWorkers).not.toBe(true);
    expect(privileges.allowExtensions).not.toBe(true);
    expect(APP_URL.startsWith(`${APP_SCHEME}://`)).toBe(true);
  });
});

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((part) => {
      const [name = '', ...sources] = part.trim().split(/\s+/);
      return [name, sources];
    }),
  );
}

describe('the Content-Security-Policy', () => {
  const policy = directives(APP_CSP);

  it('allows scripts, styles and connections only from our own origin: no WebSocket, no inline, no eval', () => {
    expect(policy.get('default-src')).toEqual(["'self'"]);
    expect(policy.get('script-src')).toEqual(["'self'"]);
    expect(policy.get('style-src')).toEqual(["'self'"]);
    expect(policy.get('connect-src')).toEqual(["'self'"]);
    for (const banned of ['ws:', 'wss:', '*', "'unsafe-inline'", "'unsafe-eval'", 'http:', 'https:', 'file:', 'blob:']) {
      expect(APP_CSP, banned).not.toContain(banned);
    }
  });

  it('refuses plugins, base rewriting, form posts and framing', () => {
    expect(policy.get('object-src')).toEqual(["'none'"]);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'none'"]);
    expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  });

  it('is the only policy: the page carries no <meta> policy of its own that could add sources', () => {
    const html = readFileSync(`${repoRoot}/renderer/index.html`, 'utf8');
    expect(html).not.toMatch(/http-equiv\s*=\s*["']?content-security-policy/i);
  });
});

type Handlers = {
  protocol?: (request: AppRequest) => Promise<Response>;
  request?: (contents: unknown, permission: string, callback: (granted: boolean) => void, details: { requestingUrl: string }) => void;
  check?: (contents: unknown, permission: string, requestingOrigin: string, details: unknown) => boolean;
  device?: (details: unknown) => boolean;
};

function lockedSession() {
  const handlers: Handlers = {};
  const session = {
    protocol: { handle: vi.fn((scheme: string, handler: Handlers['protocol']) => void (scheme === APP_SCHEME && (handlers.protocol = handler))) },
    setPermissionRequestHandler: vi.fn((handler: Handlers['request']) => void (handlers.request = handler)),
    setPermissionCheckHandler: vi.fn((handler: Handlers['check']) => void (handlers.check = handler)),
    setDevicePermissionHandler: vi.fn((handler: Handlers['device']) => void (handlers.device = handler)),
  };
  lockDownSession(session as unknown as Parameters<typeof lockDownSession>[0], `${repoRoot}/renderer`);
  return handlers;
}

const PERMISSIONS = ['media', 'geolocation', 'clipboard-read', 'fullscreen', 'openExternal', 'hid', 'usb', 'serial', 'display-capture', 'midiSysex', 'pointerLock', 'idle-detection', 'window-management', 'unknown'];

describe('the session', () => {
  const handlers = lockedSession();

  it('serves our scheme with the CSP and nosniff on every response', async () => {
    expect(handlers.protocol).toBeDefined();
    const response = await handlers.protocol!({ url: APP_URL, method: 'GET' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('grants notifications and clipboard writes to our page, and nothing else to anyone', () => {
    const ask = (permission: string, requestingUrl: string) => {
      let granted: boolean | undefined;
      handlers.request!({}, permission, (answer) => (granted = answer), { requestingUrl });
      return granted;
    };
    expect(ask('notifications', `${APP_URL}#/`)).toBe(true);
    expect(handlers.check!({}, 'notifications', 'heron://app', {})).toBe(true);
    expect(ask('notifications', 'https://example.org/')).toBe(false);
    expect(handlers.check!({}, 'notifications', 'https://example.org', {})).toBe(false);
    expect(ask('clipboard-sanitized-write', APP_URL)).toBe(true);
    expect(ask('clipboard-sanitized-write', 'https://example.org/')).toBe(false);
    for (const permission of PERMISSIONS) {
      expect(ask(permission, APP_URL), permission).toBe(false);
      expect(handlers.check!({}, permission, 'heron://app', {}), permission).toBe(false);
    }
    expect(handlers.device!({ deviceType: 'usb', origin: 'heron://app' })).toBe(false);
  });
});

describe('every webContents', () => {
  function confined() {
    const listeners = new Map<string, (event: unknown) => void>();
    let openHandler: ((details: { url: string }) => { action: string }) | undefined;
    const contents = {
      setWindowOpenHandler: (handler: typeof openHandler) => void (openHandler = handler),
      on: (name: string, listener: (event: unknown) => void) => void listeners.set(name, listener),
    };
    const opener = { openExternal: vi.fn(async () => {}), openXmpp: vi.fn(), log: vi.fn() } satisfies LinkOpener;
    confineContents(contents as unknown as Parameters<typeof confineContents>[0], APP_URL, opener);
    const fire = (name: string, url: string, isMainFrame = true) => {
      const event = { url, isMainFrame, preventDefault: vi.fn() };
      const listener = listeners.get(name);
      if (listener === undefined) throw new Error(`no ${name} listener`);
      listener(event);
      return event.preventDefault.mock.calls.length > 0;
    };
    return { openWindow: (url: string) => openHandler!({ url }), fire, opener };
  }

  it('opens no window: a link meant for one goes through the opener by its scheme', () => {
    const { openWindow, opener } = confined();
    for (const url of ['https://example.org/', 'xmpp:juliet@example.org', 'file:///etc/passwd', APP_URL, 'javascript:alert(1)']) {
      expect(openWindow(url), url).toEqual({ action: 'deny' });
    }
    expect(opener.openExternal.mock.calls).toEqual([['https://example.org/']]);
    expect(opener.openXmpp.mock.calls).toEqual([['xmpp:juliet@example.org']]);
  });

  it('never navigates or redirects away from our page', () => {
    const { fire, opener } = confined();
    expect(fire('will-frame-navigate', `${APP_URL}#/settings`)).toBe(false);
    for (const url of ['https://example.org/', 'file:///etc/hostname', 'heron://app/other.html', 'data:text/html,x']) {
      expect(fire('will-frame-navigate', url), url).toBe(true);
      expect(fire('will-redirect', url), url).toBe(true);
    }
    // Our own page inside a frame is still not allowed.
    expect(fire('will-frame-navigate', APP_URL, false)).toBe(true);
    // A clicked web link opens in the browser; the redirect opened nothing.
    expect(opener.openExternal.mock.calls).toEqual([['https://example.org/']]);
  });

  it('refuses every <webview>', () => {
    const { fire } = confined();
    expect(fire('will-attach-webview', 'https://example.org/')).toBe(true);
  });
});

describe('openLink', () => {
  it('hands web and mail links to the system, xmpp: links to us, and nothing else to anyone', () => {
    const opener = { openExternal: vi.fn(async () => {}), openXmpp: vi.fn(), log: vi.fn() } satisfies LinkOpener;
    expect(openLink('mailto:romeo@example.net', opener)).toBe('open-externally');
    expect(openLink('xmpp:romeo@example.net?message', opener)).toBe('open-xmpp');
    expect(openLink('file:///etc/passwd', opener)).toBe('refuse');
    expect(openLink('ms-officecmd:{}', opener)).toBe('refuse');
    expect(opener.openExternal.mock.calls).toEqual([['mailto:romeo@example.net']]);
    expect(opener.openXmpp.mock.calls).toEqual([['xmpp:romeo@example.net?message']]);
    expect(opener.log).toHaveBeenCalledWith('warn', 'refused to open a file: link');
  });

  it('logs a system that fails to open a link, and stays up', async () => {
    const opener = { openExternal: vi.fn(async () => Promise.reject(new Error('no browser'))), openXmpp: vi.fn(), log: vi.fn() } satisfies LinkOpener;
    expect(openLink('https://example.org/', opener)).toBe('open-externally');
    await vi.waitFor(() => expect(opener.log).toHaveBeenCalledWith('warn', expect.stringContaining('no browser')));
  });
});

describe('the fuses electron-builder flips', () => {
  // electron-builder's own translation of electron-builder.yml's electronFuses into the fuse wire.
  const generate = (PlatformPackager.prototype as unknown as { generateFuseConfig(fuses: unknown): Promise<Record<number, boolean | undefined> & { version: string }> })
    .generateFuseConfig;

  it('sets every fuse of the wire to its locked-down value', async () => {
    const wire = await generate(loadBuilderConfig().electronFuses);
    expect(wire.version).toBe(FuseVersion.V1);
    const expected: Record<FuseV1Options, boolean> = {
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    };
    // A fuse added to @electron/fuses and not decided here fails too.
    const fuses = Object.values(FuseV1Options).filter((value): value is FuseV1Options => typeof value === 'number');
    expect(fuses.sort()).toEqual(Object.keys(expected).map(Number).sort());
    for (const fuse of fuses) expect(wire[fuse], FuseV1Options[fuse]).toBe(expected[fuse]);
  });
});
