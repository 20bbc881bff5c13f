// Electron entry: one instance, one window, the core behind IPC. What can be decided without
// Electron is decided in security.ts, lockdown.ts, window*.ts, context-menu.ts, updates.ts,
// ipc.ts and connectivity.ts, where it is tested.
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  net,
  Notification,
  powerMonitor,
  protocol,
  screen,
  session,
  shell,
  Tray,
} from 'electron';
import { createCore, keytarVault } from '../core';
import { APP_SCHEME_REGISTRATION, APP_URL } from './app-protocol';
import { watchConnectivity } from './connectivity';
import { registerIpc } from './ipc';
import { confineContents, lockDownSession, type LinkOpener } from './lockdown';
import { decideUpdates } from './updates';
import { attachContextMenu, mainWindowOptions, spellCheckLanguages, trackWindowState } from './window';
import { placeWindow, windowStateStore, type WindowStateStore } from './window-state';
import { desktopShell } from './desktop';
import { listenForOpenUrl, uriFromArgv, UriRelay } from './single-instance';

// The app root holds package.json and dist/, in a checkout and inside app.asar alike.
const appRoot = app.getAppPath();
const rendererDir = path.join(appRoot, 'dist/renderer');
const preloadPath = path.join(appRoot, 'dist/preload/preload.cjs');
// How long quitting waits for the core to close connections and the archive.
const CLOSE_TIMEOUT_MS = 5_000;

let mainWindow: BrowserWindow | undefined;
let windowState: WindowStateStore | undefined;
// xmpp: links from the first start's command line and (macOS, even before ready) open-url.
const uris = new UriRelay();
const firstUri = uriFromArgv(process.argv);
if (firstUri !== undefined) uris.hand(firstUri);
const desktop = desktopShell({ app, Tray, Menu, Notification, nativeImage, appRoot, window: () => mainWindow, showWindow: () => showWindow(), log });

function log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
  console[level](`heron: ${message}`);
}

// A separate profile (tests, a second identity): Chromium's own switch, applied to userData too,
// and before the single-instance lock, which is held per profile.
if (app.commandLine.hasSwitch('user-data-dir')) {
  app.setPath('userData', path.resolve(app.commandLine.getSwitchValue('user-data-dir')));
}

// Links from the page: web and mail to the system, xmpp: to us, the rest nowhere (security.ts).
const links: LinkOpener = {
  openExternal: (url) => shell.openExternal(url),
  openXmpp: (uri) => receiveXmppUri(uri),
  log,
};

// Our renderer's origin, heron://app/ (app-protocol.ts); privileges can only be given before ready.
protocol.registerSchemesAsPrivileged([APP_SCHEME_REGISTRATION]);

if (!app.requestSingleInstanceLock()) {
  // Another Heron owns the archive; it shows its window (second-instance in start()).
  app.quit();
} else {
  app.enableSandbox();
  listenForOpenUrl(app, uris, () => uris.delivering && showWindow());
  app.on('web-contents-created', (_event, contents) => confineContents(contents, APP_URL, links));
  app.whenReady().then(start).catch(fail);
}

async function start(): Promise<void> {
  lockDownSession(session.defaultSession, rendererDir);
  // macOS checks spelling with its own checker in the system's languages.
  if (process.platform !== 'darwin') {
    const languages = spellCheckLanguages(app.getPreferredSystemLanguages(), session.defaultSession.availableSpellCheckerLanguages);
    if (languages.length > 0) session.defaultSession.setSpellCheckerLanguages(languages);
  }
  windowState = windowStateStore(path.join(app.getPath('userData'), 'window-state.json'), { log: (message) => log('warn', message) });
  await windowState.load();

  const core = await createCore({ dataDir: app.getPath('userData'), vault: keytarVault(), log, notifications: desktop.notifications });
  const stopIpc = registerIpc({ ipcMain, core, target: () => mainWindow?.webContents, appUrl: APP_URL, log });
  powerMonitor.on('suspend', () => core.suspend());
  powerMonitor.on('resume', () => core.resume());
  const stopWatching = watchConnectivity(
    () => net.isOnline(),
    (online) => core.networkChanged(online),
  );
  // The watcher reports changes only: tell the core if we start without a network.
  if (!net.isOnline()) core.networkChanged(false);

  let closed = false;
  app.on('will-quit', (event) => {
    if (closed) return;
    // Hold the quit until the core has closed its connections and the archive.
    event.preventDefault();
    stopWatching();
    stopIpc();
    desktop.stop();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref());
    Promise.race([core.close(), timeout])
      .catch((error: unknown) => log('error', `closing failed: ${String(error)}`))
      .finally(() => {
        closed = true;
        app.quit();
      });
  });
  // macOS keeps an app without windows running and reopens one from the dock.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Client state indication: while no window shows, servers may hold back what is not urgent.
  app.on('browser-window-created', (_event, window) => {
    window.on('show', () => core.setActive(true));
    window.on('restore', () => core.setActive(true));
    window.on('hide', () => core.setActive(false));
    window.on('minimize', () => core.setActive(false));
    window.on('closed', () => core.setActive(false));
  });
  // Only now: a window opened before the IPC handlers exist would see a core that is not there.
  await desktop.attach(core, uris);
  app.on('activate', () => showWindow());
  startUpdates();
  showWindow();
}

function showWindow(): void {
  if (mainWindow !== undefined) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    if (!mainWindow.isVisible()) mainWindow.show(); // hidden to the tray
    mainWindow.focus();
    return;
  }
  mainWindow = createMainWindow();
}

/** The main window where it was last (on a display that is there), at its zoom, with its menu. */
function createMainWindow(): BrowserWindow {
  const saved = windowState?.latest();
  const bounds = placeWindow(
    saved?.bounds,
    screen.getAllDisplays().map((display) => display.workArea),
    screen.getPrimaryDisplay().workArea,
  );
  const window = new BrowserWindow(mainWindowOptions(preloadPath, bounds));
  window.once('ready-to-show', () => desktop.startsHidden() || (saved?.maximized === true ? window.maximize() : window.show()));
  window.webContents.once('did-finish-load', () => window.webContents.setZoomLevel(saved?.zoomLevel ?? 0));
  if (windowState !== undefined) trackWindowState(window, windowState, process.platform);
  attachContextMenu(window.webContents, (items) => Menu.buildFromTemplate(items), (text) => clipboard.writeText(text));
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  window.loadURL(APP_URL).catch((error: unknown) => log('error', `could not load ${APP_URL}: ${String(error)}`));
  return window;
}

// xmpp: links clicked in the window go where those the system hands over go.
function receiveXmppUri(uri: string): void {
  uris.hand(uri);
  showWindow();
}

/** electron-updater, only in a packaged build given a feed (updates.ts says when). */
function startUpdates(): void {
  const decision = decideUpdates({
    isPackaged: app.isPackaged,
    platform: process.platform,
    feedConfigured: existsSync(path.join(process.resourcesPath, 'app-update.yml')),
    env: process.env,
  });
  if (!decision.check) {
    log('info', `automatic updates off: ${decision.reason}`);
    return;
  }
  import('electron-updater')
    .then(({ autoUpdater }) => autoUpdater.checkForUpdatesAndNotify())
    .catch((error: unknown) => log('warn', `update check failed: ${String(error)}`));
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  log('error', `could not start: ${error instanceof Error ? error.stack : message}`);
  dialog.showErrorBox('Heron could not start', message);
  app.exit(1);
}
