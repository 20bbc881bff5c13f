// The window's message catalogue: every message parses as ICU MessageFormat, and plurals and
// placeholders come out as a reader expects.
import { describe, expect, it } from 'vitest';
import { IntlMessageFormat } from 'intl-messageformat';
import { en } from '../../renderer/src/lib/i18n/en';
import { t } from '../../renderer/src/lib/i18n';
import { describeConnection, describePresence, formatCountdown, formatIdle } from '../../renderer/src/lib/format';

describe('the message catalogue', () => {
  it('holds only messages that parse', () => {
    for (const [key, message] of Object.entries(en)) expect(() => new IntlMessageFormat(message, 'en'), key).not.toThrow();
  });

  it('fills placeholders and picks the plural form', () => {
    expect(t('list.unread', { count: 1 })).toBe('1 unread message');
    expect(t('list.unread', { count: 1200 })).toBe('1,200 unread messages');
    expect(t('rail.account', { jid: 'alice@heron.test', state: 'Online' })).toBe('alice@heron.test — Online');
    // A placeholder's value is text, never more message syntax.
    expect(t('rail.account', { jid: '{evil, plural, other {x}}', state: '<b>' })).toBe('{evil, plural, other {x}} — <b>');
  });

  it('words the presentation helpers and account settings from the catalogue', () => {
    expect(formatCountdown(12_000)).toBe('12s');
    expect(formatCountdown(185_000)).toBe('3m 05s');
    expect(formatCountdown(3_720_000)).toBe('1h 02m');
    expect(describeConnection({ state: 'waiting', attempt: 2, retryAt: 12_000 }, 0).label).toBe('Retrying in 12s');
    expect(describeConnection({ state: 'connecting', attempt: 1 }, 0).label).toBe('Connecting (attempt 2)…');
    expect(describeConnection({ state: 'auth-failed', attempt: 0 }, 0)).toMatchObject({ label: 'Sign-in failed', detail: 'The server did not accept the address or password.' });
    expect(formatIdle(0, 5 * 60_000)).toBe('idle 5 min');
    expect(describePresence({ show: 'dnd', status: ' In a meeting ' })).toBe('Do not disturb — In a meeting');
    expect(t('accountSettings.deleteHistory', { count: 1 })).toBe('Also delete its chat history on this computer (1 chat)');
    expect(t('accountSettings.connectedVia', { host: 'xmpp.example.org', port: '5223', security: 'tls' })).toBe('· xmpp.example.org:5223 over direct TLS');
    expect(t('accountSettings.removeConfirm', { withHistory: 'no' })).toBe('Remove, keep history');
  });
});
