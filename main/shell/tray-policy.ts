// What the tray shows, decided without Electron: the icon (unread, none, offline), the tooltip
// and the menu (show/hide, one status for every account, quit). tray.ts draws it.
import type { AccountView, OwnPresence } from '../../preload/contract';

export type TrayPrefs = { closeToTray: boolean; startMinimized: boolean; launchAtLogin: boolean };
/** All off until the user turns them on; the shell holds these until it has read settings.get. */
export const DEFAULT_TRAY_PREFS: TrayPrefs = { closeToTray: false, startMinimized: false, launchAtLogin: false };

export type TrayIcon = 'normal' | 'unread' | 'offline';
export type TrayAction = { kind: 'toggle-window' } | { kind: 'presence'; show: OwnPresence['show'] } | { kind: 'quit' };
export type TrayMenuItem =
  | { kind: 'item'; label: string; action: TrayAction; checked?: boolean; enabled?: boolean }
  | { kind: 'submenu'; label: string; items: TrayMenuItem[]; enabled: boolean }
  | { kind: 'separator' };
export type TrayState = { icon: TrayIcon; tooltip: string; menu: TrayMenuItem[] };

export type TrayInput = { accounts: readonly Pick<AccountView, 'connection' | 'presence' | 'enabled'>[]; unread: number; windowVisible: boolean };

const STATUSES: Array<[OwnPresence['show'], string]> = [
  ['available', 'Available'],
  ['away', 'Away'],
  ['xa', 'Not available'],
  ['dnd', 'Do not disturb'],
];

export function trayState({ accounts, unread, windowVisible }: TrayInput): TrayState {
  const online = accounts.some((a) => a.connection.state === 'online');
  const icon: TrayIcon = !online ? 'offline' : unread > 0 ? 'unread' : 'normal';
  const tooltip = !online
    ? accounts.length === 0
      ? 'Heron — no account'
      : 'Heron — offline'
    : unread > 0
      ? `Heron — ${unread} unread ${unread === 1 ? 'message' : 'messages'}`
      : 'Heron';
  // One status for all accounts: checked only when they all show the same.
  const shows = new Set(accounts.map((a) => a.presence.show));
  const shared = shows.size === 1 ? [...shows][0] : undefined;
  return {
    icon,
    tooltip,
    menu: [
      { kind: 'item', label: windowVisible ? 'Hide Heron' : 'Show Heron', action: { kind: 'toggle-window' } },
      {
        kind: 'submenu',
        label: 'Status (all accounts)',
        enabled: accounts.length > 0,
        items: STATUSES.map(([show, label]) => ({ kind: 'item', label, action: { kind: 'presence', show }, checked: show === shared })),
      },
      { kind: 'separator' },
      { kind: 'item', label: 'Quit Heron', action: { kind: 'quit' } },
    ],
  };
}

/** Whether closing the window only hides it: with the setting on, and while a tray can bring it back. */
export function hidesOnClose(prefs: TrayPrefs, trayShown: boolean, quitting: boolean): boolean {
  return prefs.closeToTray && trayShown && !quitting;
}
