import { describe, expect, it } from 'vitest';
import {
  decideNavigation,
  isAppUrl,
  isExternalAllowed,
  isPermissionAllowed,
  isTrustedSender,
} from '../../main/shell/security';

const appUrl = 'file:///opt/Heron/resources/app.asar/dist/renderer/index.html';

describe('isAppUrl', () => {
  it('accepts our index page, with or without query and fragment', () => {
    expect(isAppUrl(appUrl, appUrl)).toBe(true);
    expect(isAppUrl(`${appUrl}#/chat/4`, appUrl)).toBe(true);
    expect(isAppUrl(`${appUrl}?debug=1`, appUrl)).toBe(true);
    // Dot segments are folded by the URL parser before comparing.
    expect(isAppUrl('file:///opt/Heron/resources/app.asar/dist/other/../renderer/index.html', appUrl)).toBe(true);
  });

  it('refuses other files, other hosts and other schemes', () => {
    expect(isAppUrl('file:///opt/Heron/resources/app.asar/dist/renderer/evil.html', appUrl)).toBe(false);
    expect(isAppUrl('file:///tmp/index.html', appUrl)).toBe(false);
    expect(isAppUrl(`${appUrl}/../../../../../etc/passwd`, appUrl)).toBe(false);
    expect(isAppUrl('file://fileserver/opt/Heron/resources/app.asar/dist/renderer/index.html', appUrl)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:5173/opt/Heron/resources/app.asar/dist/renderer/index.html', appUrl)).toBe(false);
    expect(isAppUrl('about:blank', appUrl)).toBe(false);
    expect(isAppUrl('', appUrl)).toBe(false);
    expect(isAppUrl('not a url', appUrl)).toBe(false);
  });

  it('refuses everything when the expected URL is not a file URL', () => {
    const hosted = 'http://127.0.0.1:5173/index.html';
    expect(isAppUrl(hosted, hosted)).toBe(false);
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
  });
});

describe('isExternalAllowed', () => {
  it('allows web and mail links', () => {
    expect(isExternalAllowed('https://example.org/a?b#c')).toBe(true);
    expect(isExternalAllowed('http://example.org')).toBe(true);
    expect(isExternalAllowed('mailto:someone@example.org')).toBe(true);
  });

  it('refuses schemes that reach the file system, run code or start other programs', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'xmpp:someone@example.org',
      'smb://server/share',
      'ms-msdt:/id PCWDiagnostic',
      'vbscript:msgbox',
      'not a url',
      '',
    ]) {
      expect(isExternalAllowed(url), url).toBe(false);
    }
  });
});

describe('decideNavigation', () => {
  it('stays on our page, sends web links to the system browser and drops the rest', () => {
    expect(decideNavigation(`${appUrl}#/settings`, appUrl)).toBe('allow');
    expect(decideNavigation('https://example.org/', appUrl)).toBe('open-externally');
    expect(decideNavigation('file:///etc/passwd', appUrl)).toBe('deny');
    expect(decideNavigation('javascript:alert(1)', appUrl)).toBe('deny');
  });
});

describe('isPermissionAllowed', () => {
  it('grants only clipboard writes', () => {
    expect(isPermissionAllowed('clipboard-sanitized-write')).toBe(true);
    for (const permission of ['notifications', 'media', 'geolocation', 'clipboard-read', 'openExternal', 'unknown']) {
      expect(isPermissionAllowed(permission), permission).toBe(false);
    }
  });
});
