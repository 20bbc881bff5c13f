// The desktop citizen around the window: tray, native notifications and the badge, xmpp: links
// from a second start or open-url, close to tray, start minimized, launch at login. main.ts
// makes it before the core (the core takes its notification sink) and attaches it after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App, BrowserWindow, Menu, NativeImage, Notification, Tray } from 'electron';
import type { AccountView, Settings } from '../../preload/contract';
import type { AttentionOptions, Core } from '../core';
import { electronNotifier } from './notifier';
import { listenForSecondInstance, type UriRelay } from './single-instance';
import { applyLaunchAtLogin, ShellTray, trayIconFile } from './tray';
import { DEFAULT_TRAY_PREFS, hidesOnClose, type TrayIcon, type TrayPrefs } from './tray-policy';

export type DesktopDeps = {
  app: App;
  Tray: typeof Tray;
  Menu: typeof Menu;
  Notification: typeof Notification;
  nativeImage: { createFromPath(file: string): NativeImage };
  appRoot: string;
  window(): BrowserWindow | undefined;
  showWindow(): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
};

export type DesktopShell = {
  /** For createCore: where the notification policy's decisions go. */
  notifications: AttentionOptions;
  attach(core: Core, uris: UriRelay): Promise<void>;
  /** Whether the first window stays hidden when ready (start minimized, with a tray to open it). */
  startsHidden(): boolean;
  stop(): void;
};

export function desktopShell(deps: DesktopDeps): DesktopShell {
  // The tray settings from the core (settings.get, then settings.changed); the defaults until attached.
  let trayPrefs: TrayPrefs = DEFAULT_TRAY_PREFS;
  let core: Core | undefined;
  let tray: ShellTray | undefined;
  let unread = 0;
  let quitting = false;
  let firstWindow = true;
  const visible = () => deps.window()?.isVisible() === true;
  const showConversation = (conversationId: number | undefined) => {
    deps.showWindow();
    if (conversationId !== undefined) core?.showConversation(conversationId);
  };
  const notifier = electronNotifier({
    Notification: deps.Notification,
    app: deps.app,
    open: showConversation,
    reply: (conversationId, body) => {
      core?.handle('messages.send', { conversationId, body }).catch((error: unknown) => deps.log('error', `an inline reply failed: ${String(error)}`));
    },
    log: deps.log,
  });
  const icon = (variant: TrayIcon): NativeImage => {
    const file = trayIconFile(variant, { packaged: deps.app.isPackaged, resourcesPath: process.resourcesPath, appRoot: deps.appRoot, platform: process.platform, join: path.join });
    const image = deps.nativeImage.createFromPath(file);
    if (image.isEmpty()) deps.log('warn', `tray icon missing: ${file}`);
    return image;
  };

  const launchAtLogin = (prefs: TrayPrefs) => {
    try {
      applyLaunchAtLogin(prefs, {
        platform: process.platform,
        app: deps.app,
        // Inside an AppImage, execPath is a temporary mount; APPIMAGE is the file to start.
        execPath: process.env.APPIMAGE ?? process.execPath,
        autostartFile: path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'autostart', 'org.heron.Heron.desktop'),
        fs,
        dirname: path.dirname,
      });
    } catch (error) {
      deps.log('warn', `could not set launch at login: ${String(error)}`);
    }
  };

  return {
    notifications: {
      sink: {
        ...notifier,
        badge(count) {
          unread = count;
          notifier.badge(count);
          tray?.setUnread(count);
        },
      },
      windowFocused: () => deps.window()?.isFocused() === true,
    },
    async attach(attached, uris) {
      core = attached;
      const accounts = (await attached.handle('accounts.list', {})) as AccountView[];
      tray = new ShellTray(
        {
          createTray: (image) => new deps.Tray(image),
          buildMenu: (template) => deps.Menu.buildFromTemplate(template),
          icon,
          windowVisible: visible,
          act: (action) => {
            if (action.kind === 'quit') deps.app.quit();
            else if (action.kind === 'presence') attached.handle('presence.set', { show: action.show }).catch((error: unknown) => deps.log('warn', `status change failed: ${String(error)}`));
            else if (visible()) deps.window()?.hide();
            else deps.showWindow();
          },
        },
        accounts,
      );
      tray.setUnread(unread);
      deps.log('info', 'tray icon shown');
      attached.onEvent((event, payload) => tray?.hear(event, payload as never));
      uris.attach((uri) => attached.openUri(uri));
      listenForSecondInstance(deps.app, uris, deps.showWindow);
      // Windows registers the scheme at run time; macOS and Linux declare it in the package.
      if (deps.app.isPackaged && process.platform === 'win32') deps.app.setAsDefaultProtocolClient('xmpp');
      deps.app.on('before-quit', () => (quitting = true));
      deps.app.on('browser-window-created', (_event, window) => {
        window.on('show', () => tray?.redraw());
        window.on('hide', () => tray?.redraw());
        window.on('close', (event) => {
          if (!hidesOnClose(trayPrefs, tray !== undefined, quitting)) return;
          event.preventDefault();
          window.hide();
        });
      });
      trayPrefs = ((await attached.handle('settings.get', {})) as Settings).tray;
      launchAtLogin(trayPrefs);
      attached.onEvent((event, payload) => {
        if (event !== 'settings.changed') return;
        const changed = (payload as Settings).tray;
        const before = trayPrefs;
        trayPrefs = changed;
        if (changed.launchAtLogin !== before.launchAtLogin) launchAtLogin(changed);
      });
    },
    startsHidden() {
      const hidden = firstWindow && trayPrefs.startMinimized && tray !== undefined;
      firstWindow = false;
      return hidden;
    },
    stop() {
      tray?.destroy();
      tray = undefined;
    },
  };
}
