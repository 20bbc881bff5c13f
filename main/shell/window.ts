// The main window: its options and the adapters that keep its state, zoom, spell checking and
// context menu. The decisions are in window-state.ts and context-menu.ts; what is here only
// connects them to Electron objects passed in (types only), so it runs under Node with fakes.
import type { BrowserWindow, BrowserWindowConstructorOptions, Menu, MenuItemConstructorOptions } from 'electron';
import { contextMenuItems, type ContextMenuActions } from './context-menu';
import { lockedWebPreferences } from './lockdown';
import {
  MINIMUM_SIZE,
  nextZoomLevel,
  zoomCommandFor,
  type Rect,
  type WindowState,
  type WindowStateStore,
  type ZoomCommand,
} from './window-state';

/** The main window's options, opened at `bounds` (placeWindow) and hidden until its page is ready. */
export function mainWindowOptions(preloadPath: string, bounds: Rect): BrowserWindowConstructorOptions {
  return {
    ...bounds,
    minWidth: MINIMUM_SIZE.width,
    minHeight: MINIMUM_SIZE.height,
    show: false,
    title: 'Heron',
    webPreferences: lockedWebPreferences(preloadPath),
  };
}

type TrackedWindow = Pick<BrowserWindow, 'on' | 'getNormalBounds' | 'isMaximized' | 'isMinimized' | 'isDestroyed'> & {
  webContents: Pick<BrowserWindow['webContents'], 'getZoomLevel' | 'setZoomLevel' | 'on'>;
};

/**
 * Saves the window's state as it changes, and applies and saves zoom changes from the keyboard
 * (Ctrl/Cmd with +, - or 0, taken before the page or the menu sees them) and from Ctrl+wheel.
 */
export function trackWindowState(window: TrackedWindow, store: WindowStateStore, platform: NodeJS.Platform): void {
  const snapshot = (): WindowState => ({
    // The bounds it returns to when unmaximized: maximized or not, those are the ones to keep.
    bounds: window.getNormalBounds(),
    maximized: window.isMaximized(),
    zoomLevel: window.webContents.getZoomLevel(),
  });
  const changed = () => {
    if (!window.isDestroyed() && !window.isMinimized()) store.save(snapshot());
  };
  for (const event of ['resize', 'move', 'maximize', 'unmaximize'] as const) window.on(event as 'resize', changed);
  window.on('close', () => {
    changed();
    void store.flush();
  });
  const zoom = (command: ZoomCommand) => {
    window.webContents.setZoomLevel(nextZoomLevel(window.webContents.getZoomLevel(), command));
    changed();
  };
  window.webContents.on('before-input-event', (event, input) => {
    const command = zoomCommandFor(input, platform);
    if (command === undefined) return;
    event.preventDefault();
    zoom(command);
  });
  window.webContents.on('zoom-changed', (_event, direction) => zoom(direction));
}

/** Shows the context menu for each right click, built by contextMenuItems. */
export function attachContextMenu(
  contents: Pick<BrowserWindow['webContents'], 'on' | 'replaceMisspelling'> & {
    session: { addWordToSpellCheckerDictionary(word: string): boolean };
  },
  buildMenu: (items: MenuItemConstructorOptions[]) => Pick<Menu, 'popup'>,
  copyText: ContextMenuActions['copyText'],
): void {
  contents.on('context-menu', (_event, params) => {
    const items = contextMenuItems(params, {
      replaceMisspelling: (word) => contents.replaceMisspelling(word),
      addToDictionary: (word) => void contents.session.addWordToSpellCheckerDictionary(word),
      copyText,
    });
    if (items.length > 0) buildMenu(items).popup();
  });
}

/**
 * Spell-check languages for Chromium's Hunspell: each of the system's preferred languages
 * (BCP 47, most preferred first) that a dictionary exists for, exactly or by its base language
 * (de-AT → de-DE when only that exists). None found: English, if there is one.
 */
export function spellCheckLanguages(preferred: readonly string[], available: readonly string[]): string[] {
  const byLower = new Map(available.map((code) => [code.toLowerCase(), code]));
  const chosen: string[] = [];
  for (const language of preferred) {
    const lower = language.toLowerCase();
    const base = lower.split('-')[0] ?? lower;
    const match =
      byLower.get(lower) ?? byLower.get(base) ?? available.find((code) => code.toLowerCase().split('-')[0] === base);
    if (match !== undefined && !chosen.includes(match)) chosen.push(match);
  }
  if (chosen.length > 0) return chosen;
  const english = byLower.get('en-us') ?? available.find((code) => code.toLowerCase().startsWith('en'));
  return english === undefined ? [] : [english];
}
