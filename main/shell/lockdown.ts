// The Electron side of the lock-down: the window's webPreferences, the session's handlers and
// what every webContents may do. Electron objects come in as parameters (types only here), so
// test/unit/lockdown.test.ts runs these very functions with fakes and checks every setting.
import type { Session, WebContents, WebPreferences } from 'electron';
import { APP_SCHEME, appProtocolHandler } from './app-protocol';
import { decideNavigation, isPermissionAllowed, routeLink } from './security';

/** The main window's webPreferences: a sandboxed page with only the preload's bridge. */
export function lockedWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: true,
  };
}

/**
 * Serves the renderer from `rendererDir` on our scheme and answers every permission question:
 * no to all but notifications asked by our own origin, no to every device (USB, HID, serial).
 */
export function lockDownSession(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'> & {
    protocol: Pick<Session['protocol'], 'handle'>;
  },
  rendererDir: string,
): void {
  session.protocol.handle(APP_SCHEME, appProtocolHandler(rendererDir));
  session.setPermissionRequestHandler((_contents, permission, callback, details) =>
    callback(isPermissionAllowed(permission, details.requestingUrl)),
  );
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => isPermissionAllowed(permission, requestingOrigin));
  session.setDevicePermissionHandler(() => false);
}

export type LinkOpener = {
  /** The system's browser or mailer (shell.openExternal). */
  openExternal: (url: string) => Promise<void>;
  /** An xmpp: link, handled by us like one from the system. */
  openXmpp: (uri: string) => void;
  log: (level: 'warn' | 'error', message: string) => void;
};

/** Opens a link by its route (security.ts routeLink); says what became of it. */
export function openLink(url: string, opener: LinkOpener): ReturnType<typeof routeLink> {
  const route = routeLink(url);
  if (route === 'open-externally') {
    opener.openExternal(url).catch((error: unknown) => opener.log('warn', `could not open a link: ${String(error)}`));
  } else if (route === 'open-xmpp') {
    opener.openXmpp(url);
  } else {
    opener.log('warn', `refused to open a ${URL.canParse(url) ? new URL(url).protocol : 'malformed'} link`);
  }
  return route;
}

type ConfinedEvent = { url: string; isMainFrame: boolean; preventDefault(): void };

/**
 * Keeps a webContents on our page: no new windows (a link meant for one goes through the
 * opener), no navigation or redirect away, no <webview>.
 */
export function confineContents(
  contents: Pick<WebContents, 'setWindowOpenHandler' | 'on'>,
  appUrl: string,
  opener: LinkOpener,
): void {
  contents.setWindowOpenHandler(({ url }) => {
    openLink(url, opener);
    return { action: 'deny' };
  });
  const keepOnOurPage = (event: ConfinedEvent) => {
    const decision = decideNavigation(event.url, appUrl);
    if (decision === 'allow' && event.isMainFrame) return;
    event.preventDefault();
    // A click on a link in our page is a main-frame navigation; it still opens, elsewhere.
    if (decision !== 'allow' && event.isMainFrame) openLink(event.url, opener);
  };
  contents.on('will-frame-navigate', keepOnOurPage);
  // A redirect is never the user's click: it is stopped and opens nothing.
  contents.on('will-redirect', (event) => {
    if (decideNavigation(event.url, appUrl) !== 'allow') event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
