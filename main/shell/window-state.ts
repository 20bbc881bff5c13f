// The main window's size, position, maximized state and zoom, kept across restarts in
// userData/window-state.json. Placement is a pure function of what was saved and the displays'
// work areas, so a window saved on a monitor that is gone comes back on one that is there.
import fs from 'node:fs/promises';
import path from 'node:path';

export type Rect = { x: number; y: number; width: number; height: number };
export type Size = { width: number; height: number };
export type WindowState = { bounds: Rect; maximized: boolean; zoomLevel: number };

export const DEFAULT_SIZE: Size = { width: 1100, height: 720 };
export const MINIMUM_SIZE: Size = { width: 480, height: 360 };
/** How much of a window must lie on a display (a grip on its title bar) to leave it there. */
const MIN_VISIBLE = 64;

const isInt = (value: unknown): value is number => Number.isSafeInteger(value);

/** The saved state, or undefined for a missing, damaged or hand-edited file that makes no sense. */
export function parseWindowState(text: string | undefined): WindowState | undefined {
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const { bounds, maximized, zoomLevel } = data as Record<string, unknown>;
  if (typeof bounds !== 'object' || bounds === null) return undefined;
  const { x, y, width, height } = bounds as Record<string, unknown>;
  if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height) || width <= 0 || height <= 0) return undefined;
  return {
    bounds: { x, y, width, height },
    maximized: maximized === true,
    zoomLevel: typeof zoomLevel === 'number' && Number.isFinite(zoomLevel) ? clampZoom(zoomLevel) : 0,
  };
}

function overlap(a: Rect, b: Rect): Size {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

function centred(size: Size, area: Rect): Rect {
  const width = Math.min(size.width, area.width);
  const height = Math.min(size.height, area.height);
  return {
    x: area.x + Math.floor((area.width - width) / 2),
    y: area.y + Math.floor((area.height - height) / 2),
    width,
    height,
  };
}

/**
 * Where the window opens. Saved bounds on a display that still shows enough of them stay,
 * shrunk and moved to fit inside that display's work area; otherwise the window is centred on
 * the primary display, at the saved size if it fits. Never below the minimum size, unless the
 * display itself is smaller.
 */
export function placeWindow(saved: Rect | undefined, workAreas: readonly Rect[], primary: Rect): Rect {
  const size = saved ?? DEFAULT_SIZE;
  const wanted = {
    width: Math.max(size.width, MINIMUM_SIZE.width),
    height: Math.max(size.height, MINIMUM_SIZE.height),
  };
  if (saved === undefined) return centred(wanted, primary);
  let best: { area: Rect; shown: number } | undefined;
  for (const area of workAreas) {
    const { width, height } = overlap({ ...saved, ...wanted }, area);
    if (width >= MIN_VISIBLE && height >= MIN_VISIBLE && (best === undefined || width * height > best.shown)) {
      best = { area, shown: width * height };
    }
  }
  if (best === undefined) return centred(wanted, primary);
  const { area } = best;
  const width = Math.min(wanted.width, area.width);
  const height = Math.min(wanted.height, area.height);
  return {
    x: Math.min(Math.max(saved.x, area.x), area.x + area.width - width),
    y: Math.min(Math.max(saved.y, area.y), area.y + area.height - height),
    width,
    height,
  };
}

// Chromium's zoom levels: each step is 20% (1.2^level); -3 … 5 is about 58% … 249%.
export const ZOOM_STEP = 0.5;
const ZOOM_MIN = -3;
const ZOOM_MAX = 5;

export function clampZoom(level: number): number {
  return Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, level));
}

export type ZoomCommand = 'in' | 'out' | 'reset';

export function nextZoomLevel(level: number, command: ZoomCommand): number {
  if (command === 'reset') return 0;
  return clampZoom(level + (command === 'in' ? ZOOM_STEP : -ZOOM_STEP));
}

/** What the keys pressed ask of the zoom: Ctrl (Cmd on macOS) with + / = , - or 0. */
export function zoomCommandFor(
  input: { type: string; key: string; control: boolean; meta: boolean; alt: boolean },
  platform: NodeJS.Platform,
): ZoomCommand | undefined {
  const modifier = platform === 'darwin' ? input.meta : input.control;
  if (input.type !== 'keyDown' || !modifier || input.alt) return undefined;
  if (input.key === '+' || input.key === '=') return 'in';
  if (input.key === '-' || input.key === '_') return 'out';
  if (input.key === '0') return 'reset';
  return undefined;
}

export type Timers = {
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
};

export type WindowStateStore = {
  load(): Promise<WindowState | undefined>;
  /** The state last loaded or saved: what a window opened now starts from. */
  latest(): WindowState | undefined;
  /** Remembers the state and writes it once changes pause for `delayMs`. */
  save(state: WindowState): void;
  /** Writes a pending state now (on close and quit). */
  flush(): Promise<void>;
};

/**
 * The file store. Moving or resizing reports dozens of changes a second, so writes wait for a
 * pause; each write goes to a temporary file renamed over the old one, so a crash mid-write
 * leaves the previous state, never half a file.
 */
export function windowStateStore(
  file: string,
  options: { delayMs?: number; timers?: Timers; log?: (message: string) => void } = {},
): WindowStateStore {
  const delayMs = options.delayMs ?? 500;
  const timers: Timers = options.timers ?? { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) };
  let latest: WindowState | undefined;
  let pending: WindowState | undefined;
  let timer: unknown;
  let writing: Promise<void> = Promise.resolve();

  const write = (state: WindowState) => {
    writing = writing.then(async () => {
      try {
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(`${file}.tmp`, JSON.stringify(state));
        await fs.rename(`${file}.tmp`, file);
      } catch (error) {
        options.log?.(`could not save the window state: ${String(error)}`);
      }
    });
    return writing;
  };

  const flush = () => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    const state = pending;
    pending = undefined;
    return state === undefined ? writing : write(state);
  };

  return {
    async load() {
      latest = parseWindowState(await fs.readFile(file, 'utf8').catch(() => undefined));
      return latest;
    },
    latest: () => latest,
    save(state) {
      latest = state;
      pending = state;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = timers.setTimeout(() => void flush(), delayMs);
    },
    flush,
  };
}
