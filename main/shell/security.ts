// The shell's security decisions as plain functions, so they are tested under Node without
// Electron: which page is ours, who may call the API, where a window may go, which links
// leave for the system browser.

/** True when `url` is our renderer's index page. Query and fragment are the page's own business. */
export function isAppUrl(url: string, appUrl: string): boolean {
  const actual = parse(url);
  const expected = parse(appUrl);
  return (
    actual !== undefined &&
    expected !== undefined &&
    actual.protocol === 'file:' &&
    expected.protocol === 'file:' &&
    // A host in a file: URL is a network share (file://server/...), never our install.
    actual.host === expected.host &&
    // URL parsing has already folded `..` and percent-encoding of unreserved characters.
    actual.pathname === expected.pathname
  );
}

/** What the IPC layer knows about who sent a command. */
export type SenderFacts = {
  /** The sending webContents is our main window's. */
  fromOurWindow: boolean;
  /** The sending frame is that webContents' top frame (not an iframe). */
  isMainFrame: boolean;
  /** The frame's current URL; undefined when the frame is gone. */
  url: string | undefined;
};

/** Only our own top-level page, showing our own index, may use the API. */
export function isTrustedSender(sender: SenderFacts, appUrl: string): boolean {
  return sender.fromOurWindow && sender.isMainFrame && sender.url !== undefined && isAppUrl(sender.url, appUrl);
}

// Schemes the system may open for us. Everything else (file:, javascript:, data:, custom
// handlers that might start programs) is refused.
const EXTERNAL_SCHEMES = new Set(['https:', 'http:', 'mailto:']);

/** True when `url` may be handed to the system (shell.openExternal). */
export function isExternalAllowed(url: string): boolean {
  const parsed = parse(url);
  if (parsed === undefined || !EXTERNAL_SCHEMES.has(parsed.protocol)) return false;
  return parsed.protocol === 'mailto:' || parsed.hostname !== '';
}

export type NavigationDecision = 'allow' | 'open-externally' | 'deny';

/**
 * A window only ever shows our index page. A link elsewhere never navigates the window:
 * it opens in the system browser when its scheme is allow-listed and goes nowhere otherwise.
 */
export function decideNavigation(url: string, appUrl: string): NavigationDecision {
  if (isAppUrl(url, appUrl)) return 'allow';
  return isExternalAllowed(url) ? 'open-externally' : 'deny';
}

function parse(url: string): URL | undefined {
  return URL.canParse(url) ? new URL(url) : undefined;
}

// Web permissions the page may have. Notifications come from main later, not from the page;
// writing to the clipboard (a "copy" button) is harmless.
const PAGE_PERMISSIONS = new Set(['clipboard-sanitized-write']);

export function isPermissionAllowed(permission: string): boolean {
  return PAGE_PERMISSIONS.has(permission);
}
