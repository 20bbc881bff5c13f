// Electron entry: one instance, one window, the core behind IPC. What can be decided without
// Electron is decided in security.ts, ipc.ts and connectivity.ts, where it is tested.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, net, powerMonitor, session, shell, type WebContents } from 'electron';
import { createCore, keytarVault } from '../core';
import { watchConnectivity } from './connectivity';
import { registerIpc } from './ipc';
import { decideNavigation, isPermissionAllowed } from './security';

// The app root holds package.json and dist/, in a checkout and inside app.asar alike.
const appRoot = app.getAppPath();
const appUrl = pathToFileURL(path.join(appRoot, 'dist/renderer/index.html')).href;
const preloadPath = path.join(appRoot, 'dist/preload/preload.cjs');
// How long quitting waits for the core to close connections and the archive.
const CLOSE_TIMEOUT_MS = 5_000;

let mainWindow: BrowserWindow | undefined;

function log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
  console[level](`heron: ${message}`);
}

// A separate profile (tests, a second identity): Chromium's own switch, applied to userData too,
// and before the single-instance lock, which is held per profile.
if (app.commandLine.hasSwitch('user-data-dir')) {
  app.setPath('userData', path.resolve(app.commandLine.getSwitchValue('user-data-dir')));
}

if (!app.requestSingleInstanceLock()) {
  // Another Heron owns the archive; it shows its window (second-instance in start()).
  app.quit();
} else {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => confine(contents));
  app.whenReady().then(start).catch(fail);
}

async function start(): Promise<void> {
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(isPermissionAllowed(permission)),
  );
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => isPermissionAllowed(permission));

  const core = await createCore({ dataDir: app.getPath('userData'), vault: keytarVault(), log });
  const stopIpc = registerIpc({ ipcMain, core, target: () => mainWindow?.webContents, appUrl, log });
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
  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());
  showWindow();
}

function showWindow(): void {
  if (mainWindow !== undefined) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
    return;
  }
  const window = new BrowserWindow({
    width: 1100,
    height: 720,
    minWidth: 480,
    minHeight: 360,
    show: false,
    title: 'Heron',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  mainWindow = window;
  window.loadURL(appUrl).catch((error: unknown) => log('error', `could not load ${appUrl}: ${String(error)}`));
}

/** Keeps every webContents on our page: no new windows, no navigation, no webviews. */
function confine(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (decideNavigation(url, appUrl) === 'open-externally') void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-frame-navigate', (event) => {
    const decision = decideNavigation(event.url, appUrl);
    if (decision === 'allow' && event.isMainFrame) return;
    event.preventDefault();
    if (decision === 'open-externally' && event.isMainFrame) void shell.openExternal(event.url);
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  log('error', `could not start: ${error instanceof Error ? error.stack : message}`);
  dialog.showErrorBox('Heron could not start', message);
  app.exit(1);
}
