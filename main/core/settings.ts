// App-level settings: one JSON document in the archive's settings table. Read through the
// schema so a stored document from an older or damaged version can never reach the window
// malformed: what does not parse falls back to the default, key by key.
import { settingsSchema, type Settings, type SettingsPatch } from '../../preload/contract';
import type { Archive } from './archive/archive';

const KEY = 'app';

export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  textSize: 'normal',
  enterSends: true,
  sendTyping: true,
  sendReadMarkers: true,
  notifications: { enabled: true, privacy: 'sender-and-text', sound: true },
  tray: { closeToTray: false, startMinimized: false, launchAtLogin: false },
};

/** Applies a deep-partial change: nested objects are merged, not replaced. */
export function mergeSettings(current: Settings, patch: SettingsPatch): Settings {
  const defined = <T extends object>(o: T | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
  return {
    ...current,
    ...(defined(patch) as Partial<Settings>),
    notifications: { ...current.notifications, ...defined(patch.notifications) },
    tray: { ...current.tray, ...defined(patch.tray) },
  };
}

/** The stored settings; each value that is missing or invalid is the default. */
export function readSettings(archive: Pick<Archive, 'settings'>): Settings {
  const text = archive.settings.get(KEY);
  let stored: unknown = {};
  try {
    stored = text === undefined ? {} : JSON.parse(text);
  } catch {
    stored = {};
  }
  const record = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : {};
  const pick = <T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, value: unknown, fallback: T): T => {
    const parsed = schema.safeParse(value);
    return parsed.success ? parsed.data : fallback;
  };
  const shape = settingsSchema.shape;
  const nested = (value: unknown) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
  const n = nested(record.notifications);
  const t = nested(record.tray);
  const d = DEFAULT_SETTINGS;
  return {
    theme: pick(shape.theme, record.theme, d.theme),
    textSize: pick(shape.textSize, record.textSize, d.textSize),
    enterSends: pick(shape.enterSends, record.enterSends, d.enterSends),
    sendTyping: pick(shape.sendTyping, record.sendTyping, d.sendTyping),
    sendReadMarkers: pick(shape.sendReadMarkers, record.sendReadMarkers, d.sendReadMarkers),
    notifications: {
      enabled: pick(shape.notifications.shape.enabled, n.enabled, d.notifications.enabled),
      privacy: pick(shape.notifications.shape.privacy, n.privacy, d.notifications.privacy),
      sound: pick(shape.notifications.shape.sound, n.sound, d.notifications.sound),
    },
    tray: {
      closeToTray: pick(shape.tray.shape.closeToTray, t.closeToTray, d.tray.closeToTray),
      startMinimized: pick(shape.tray.shape.startMinimized, t.startMinimized, d.tray.startMinimized),
      launchAtLogin: pick(shape.tray.shape.launchAtLogin, t.launchAtLogin, d.tray.launchAtLogin),
    },
  };
}

/** Stores a change and returns the settings as they now are. */
export function updateSettings(archive: Pick<Archive, 'settings'>, patch: SettingsPatch): Settings {
  const next = mergeSettings(readSettings(archive), patch);
  archive.settings.put(KEY, JSON.stringify(next));
  return next;
}
