import { describe, expect, it } from 'vitest';
import {
  decideNavigation,
  isAppUrl,
  isExternalAllowed,
  isPermissionAllowed,
  isTrustedSender,
  routeLink,
} from '../../main/shell/security';
import { APP_URL } from '../../main/shell/app-protocol';

const appUrl = APP_URL;

describe('isAppUrl', () => {
  it('accepts our index page on our origin, with or without query and fragment', () => {
    expect(appUrl).toBe('heron://app/index.html');
    expect(isAppUrl(appUrl, appUrl)).toBe(true);
    expect(isAppUrl(`${appUrl}#/chat/4`, appUrl)).toBe(true);
    expect(isAppUrl(`${appUrl}?debug=1`, appUrl)).toBe(true);
    // Dot segments are folded by the URL parser before comparing.
    expect(isAppUrl('heron://app/assets/../index.html', appUrl)).toBe(true);
  });

  it('refuses other files, other hosts and other schemes', () => {
    for (const url of [
      'heron://app/evil.html',
      'heron://app/assets/index.html',
      'heron://other/index.html',
      'heron://app:8080/index.html',
      'file:///opt/Heron/resources/app.asar/dist/renderer/index.html',
      'https://app/index.html',
      'http://127.0.0.1:5173/index.html',
      'about:blank',
      '',
      'not a url',
    ]) {
      expect(isAppUrl(url, appUrl), url).toBe(false);
    }
  });

  it('refuses everything when the expected URL is not on our origin', () => {
    const hosted = 'http://127.0.0.1:5173/index.html';
    expect(isAppUrl(hosted, hosted)).toBe(false);
    const file = 'file:///opt/Heron/dist/renderer/index.html';
    expect(isAppUrl(file, file)).toBe(false);
  });
});

describe('isTrustedSender', () => {
  const ours = { fromOurWindow: true, isMainFrame: true, url: `${appUrl}#/` };

  it('trusts our window top frame showing our page', () => {
    expect(isTrustedSender(ours, appUrl)).toBe(true);
  });

  it('refuses another window, a subframe, a closed frame or another page', () => {
    expect(isTrustedSender({ ...ours, fromOurWindow: false }, appUrl)).toBe(false);
    expect(isTrustedSender({ ...ours, isMainFrame: false }, appUrl)).toBe(false);
    expect(isTrustedSender({ ...ours, url: undefined }, appUrl)).toBe(false);
    expect(isTrustedSender({ ...ours, url: 'https://example.org/' }, appUrl)).toBe(false);
    expect(isTrustedSender({ ...ours, url: 'heron://app/other.html' }, appUrl)).toBe(false);
  });
});

describe('isExternalAllowed and routeLink', () => {
  it('sends web and mail links to the system and xmpp: links to us', () => {
    expect(isExternalAllowed('https://example.org/a?b#c')).toBe(true);
    expect(isExternalAllowed('http://example.org')).toBe(true);
    expect(isExternalAllowed('mailto:someone@example.org')).toBe(true);
    expect(routeLink('https://example.org/')).toBe('open-externally');
    expect(routeLink('mailto:someone@example.org')).toBe('open-externally');
    expect(routeLink('xmpp:someone@example.org?message')).toBe('open-xmpp');
    expect(isExternalAllowed('xmpp:someone@example.org')).toBe(false);
  });

  it('refuses schemes that reach the file system, run code or start other programs', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'smb://server/share',
      'ms-msdt:/id PCWDiagnostic',
      'vbscript:msgbox',
      'heron://app/index.html',
      'http://',
      'not a url',
      '',
    ]) {
      expect(isExternalAllowed(url), url).toBe(false);
      expect(routeLink(url), url).toBe('refuse');
    }
  });
});

describe('decideNavigation', () => {
  it('stays on our page, routes links elsewhere and drops the rest', () => {
    expect(decideNavigation(`${appUrl}#/settings`, appUrl)).toBe('allow');
    expect(decideNavigation('https://example.org/', appUrl)).toBe('open-externally');
    expect(decideNavigation('xmpp:someone@example.org', appUrl)).toBe('open-xmpp');
    expect(decideNavigation('file:///etc/passwd', appUrl)).toBe('deny');
    expect(decideNavigation('javascript:alert(1)', appUrl)).toBe('deny');
    expect(decideNavigation('heron://app/evil.html', appUrl)).toBe('deny');
  });
});

describe('isPermissionAllowed', () => {
  it('grants notifications and writing text to the clipboard to our origin only', () => {
    for (const permission of ['notifications', 'clipboard-sanitized-write']) {
      expect(isPermissionAllowed(permission, 'heron://app')).toBe(true);
      expect(isPermissionAllowed(permission, `${appUrl}#/`)).toBe(true);
      for (const requester of ['https://example.org', 'file:///', 'heron://other', 'null', '', undefined]) {
        expect(isPermissionAllowed(permission, requester), `${permission} ${String(requester)}`).toBe(false);
      }
    }
  });

  it('refuses every other permission, also to our origin', () => {
    for (const permission of [
      'media',
      'geolocation',
      'clipboard-read',
      'openExternal',
      'fullscreen',
      'hid',
      'usb',
      'serial',
      'display-capture',
      'unknown',
    ]) {
      expect(isPermissionAllowed(permission, 'heron://app'), permission).toBe(false);
    }
  });
});
