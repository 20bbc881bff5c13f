// The shell's security decisions as plain functions, so they are tested under Node without
// Electron: which page is ours, who may call the API, where a window may go, which links
// leave for the system browser, which permissions a page gets.
import { APP_ORIGIN } from './app-protocol';

/** The origin of a URL, also for our custom scheme (WHATWG gives non-special schemes "null"). */
function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * True when `url` is our renderer's index page (`appUrl`, on our custom origin). Query and
 * fragment are the page's own business.
 */
export function isAppUrl(url: string, appUrl: string): boolean {
  const actual = parse(url);
  const expected = parse(appUrl);
  return (
    actual !== undefined &&
    expected !== undefined &&
    originOf(expected) === APP_ORIGIN &&
    originOf(actual) === APP_ORIGIN &&
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

/** Only our own top-level page, showing our own index on our origin, may use the API. */
export function isTrustedSender(sender: SenderFacts, appUrl: string): boolean {
  return sender.fromOurWindow && sender.isMainFrame && sender.url !== undefined && isAppUrl(sender.url, appUrl);
}

// Schemes the system may open for us. Everything else (file:, javascript:, data:, custom
// handlers that might start programs) is refused. xmpp: links are ours to handle.
const EXTERNAL_SCHEMES = new Set(['https:', 'http:', 'mailto:']);

/** True when `url` may be handed to the system (shell.openExternal). */
export function isExternalAllowed(url: string): boolean {
  const parsed = parse(url);
  if (parsed === undefined || !EXTERNAL_SCHEMES.has(parsed.protocol)) return false;
  return parsed.protocol === 'mailto:' || parsed.hostname !== '';
}

/** Where a link goes: the system's browser or mailer, our own xmpp: handling, or nowhere. */
export type LinkRoute = 'open-externally' | 'open-xmpp' | 'refuse';

export function routeLink(url: string): LinkRoute {
  if (isExternalAllowed(url)) return 'open-externally';
  return parse(url)?.protocol === 'xmpp:' ? 'open-xmpp' : 'refuse';
}

export type NavigationDecision = 'allow' | Exclude<LinkRoute, 'refuse'> | 'deny';

/**
 * A window only ever shows our index page. A link elsewhere never navigates the window: it is
 * routed like any link (routeLink) and the window stays.
 */
export function decideNavigation(url: string, appUrl: string): NavigationDecision {
  if (isAppUrl(url, appUrl)) return 'allow';
  const route = routeLink(url);
  return route === 'refuse' ? 'deny' : route;
}

function parse(url: string): URL | undefined {
  return URL.canParse(url) ? new URL(url) : undefined;
}

// Web permissions our page may have: notifications, and writing plain text to the clipboard
// (a message's "Copy text"; Chromium strips anything but text). Reading the clipboard stays
// refused: a paste reaches the page as the user's own paste event. Camera and microphone come
// later, asked for when a call needs them.
const PAGE_PERMISSIONS = new Set(['notifications', 'clipboard-sanitized-write']);

/**
 * A permission is granted only when it is on the list and asked for by our own origin
 * (`requestingUrl` is a page URL or an origin, as Electron's handlers give it).
 */
export function isPermissionAllowed(permission: string, requestingUrl: string | undefined): boolean {
  const requester = requestingUrl === undefined ? undefined : parse(requestingUrl);
  return PAGE_PERMISSIONS.has(permission) && requester !== undefined && originOf(requester) === APP_ORIGIN;
}
