import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mainWindowOptions, spellCheckLanguages, trackWindowState } from '../../main/shell/window';
import {
  DEFAULT_SIZE,
  MINIMUM_SIZE,
  nextZoomLevel,
  parseWindowState,
  placeWindow,
  windowStateStore,
  zoomCommandFor,
  type Rect,
  type WindowState,
} from '../../main/shell/window-state';

// A laptop screen with a taskbar, and a larger monitor to its right.
const laptop: Rect = { x: 0, y: 0, width: 1920, height: 1040 };
const monitor: Rect = { x: 1920, y: -200, width: 2560, height: 1400 };

describe('placeWindow', () => {
  it('centres a first window at the default size on the primary display', () => {
    expect(placeWindow(undefined, [laptop], laptop)).toEqual({ x: 410, y: 160, ...DEFAULT_SIZE });
  });

  it('puts a window back where it was, on whichever display that is', () => {
    const saved = { x: 2500, y: 100, width: 1200, height: 800 };
    expect(placeWindow(saved, [laptop, monitor], laptop)).toEqual(saved);
  });

  it('brings back a window whose display is gone, centred on the primary one', () => {
    const saved = { x: 2500, y: 100, width: 1200, height: 800 };
    expect(placeWindow(saved, [laptop], laptop)).toEqual({ x: 360, y: 120, width: 1200, height: 800 });
  });

  it('pulls a window that hangs off the edge fully onto the display most of it is on', () => {
    // Mostly on the laptop, its right part over the edge into nothing, its top above the screen.
    expect(placeWindow({ x: 1500, y: -30, width: 1000, height: 700 }, [laptop], laptop)).toEqual({
      x: 920,
      y: 0,
      width: 1000,
      height: 700,
    });
  });

  it('treats a sliver left on a display as gone', () => {
    // Only 40 px of it show on the laptop: not enough to grab.
    const saved = { x: 1880, y: 200, width: 1000, height: 700 };
    expect(placeWindow(saved, [laptop], laptop)).toEqual({ x: 460, y: 170, width: 1000, height: 700 });
  });

  it('shrinks a window larger than its display, and grows one below the minimum size', () => {
    const small: Rect = { x: 0, y: 0, width: 1280, height: 690 };
    expect(placeWindow({ x: 0, y: 0, width: 1900, height: 1000 }, [small], small)).toEqual(small);
    expect(placeWindow({ x: 10, y: 10, width: 100, height: 50 }, [laptop], laptop)).toEqual({ x: 10, y: 10, ...MINIMUM_SIZE });
  });
});

describe('mainWindowOptions', () => {
  it('opens the window at its placed bounds, never smaller than the minimum size', () => {
    const options = mainWindowOptions('/preload.cjs', { x: 40, y: 30, width: 900, height: 650 });
    expect(options).toMatchObject({ x: 40, y: 30, width: 900, height: 650, minWidth: MINIMUM_SIZE.width, minHeight: MINIMUM_SIZE.height });
  });
});

describe('parseWindowState', () => {
  it('reads what was saved', () => {
    const state: WindowState = { bounds: { x: -1200, y: 40, width: 900, height: 600 }, maximized: true, zoomLevel: 1.5 };
    expect(parseWindowState(JSON.stringify(state))).toEqual(state);
  });

  it('ignores a missing, damaged or nonsensical file', () => {
    for (const text of [undefined, '', '{', 'null', '[]', '{"bounds":null}', '{"bounds":{"x":0,"y":0,"width":0,"height":600}}', '{"bounds":{"x":"0","y":0,"width":800,"height":600}}', '{"bounds":{"x":0.5,"y":0,"width":800,"height":600}}']) {
      expect(parseWindowState(text), String(text)).toBeUndefined();
    }
  });

  it('keeps the bounds of a file with odd extras, clamping the zoom', () => {
    expect(parseWindowState('{"bounds":{"x":0,"y":0,"width":800,"height":600},"maximized":"yes","zoomLevel":99}')).toEqual({
      bounds: { x: 0, y: 0, width: 800, height: 600 },
      maximized: false,
      zoomLevel: 5,
    });
  });
});

describe('zoom', () => {
  const key = (key: string, modifiers: Partial<{ control: boolean; meta: boolean; alt: boolean }> = { control: true }) => ({
    type: 'keyDown',
    key,
    control: false,
    meta: false,
    alt: false,
    ...modifiers,
  });

  it('reads Ctrl + / - / 0 (Cmd on macOS) and nothing else', () => {
    expect(zoomCommandFor(key('+'), 'linux')).toBe('in');
    expect(zoomCommandFor(key('='), 'win32')).toBe('in');
    expect(zoomCommandFor(key('-'), 'linux')).toBe('out');
    expect(zoomCommandFor(key('0'), 'linux')).toBe('reset');
    expect(zoomCommandFor(key('+', { meta: true }), 'darwin')).toBe('in');
    expect(zoomCommandFor(key('+', { meta: true }), 'linux')).toBeUndefined();
    expect(zoomCommandFor(key('+'), 'darwin')).toBeUndefined();
    expect(zoomCommandFor(key('+', {}), 'linux')).toBeUndefined();
    expect(zoomCommandFor(key('0', { control: true, alt: true }), 'linux')).toBeUndefined();
    expect(zoomCommandFor({ ...key('+'), type: 'keyUp' }, 'linux')).toBeUndefined();
    expect(zoomCommandFor(key('a'), 'linux')).toBeUndefined();
  });

  it('steps within limits and resets to 100%', () => {
    expect(nextZoomLevel(0, 'in')).toBe(0.5);
    expect(nextZoomLevel(0, 'out')).toBe(-0.5);
    expect(nextZoomLevel(5, 'in')).toBe(5);
    expect(nextZoomLevel(-3, 'out')).toBe(-3);
    expect(nextZoomLevel(2.5, 'reset')).toBe(0);
  });
});

describe('windowStateStore', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.useRealTimers();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const state = (width: number): WindowState => ({ bounds: { x: 10, y: 20, width, height: 600 }, maximized: false, zoomLevel: 0 });

  it('writes once changes pause, the last state only, and reads it back', async () => {
    vi.useFakeTimers();
    dir = mkdtempSync(path.join(tmpdir(), 'heron-window-'));
    const file = path.join(dir, 'profile', 'window-state.json');
    const store = windowStateStore(file, { delayMs: 500 });
    expect(await store.load()).toBeUndefined();
    for (let width = 800; width < 900; width += 10) {
      store.save(state(width));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(() => readFileSync(file)).toThrow();
    expect(store.latest()).toEqual(state(890));
    await vi.advanceTimersByTimeAsync(500);
    await store.flush();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(state(890));
    expect(await windowStateStore(file).load()).toEqual(state(890));
  });

  it('writes a pending state at once on flush (close, quit)', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'heron-window-'));
    const file = path.join(dir, 'window-state.json');
    const store = windowStateStore(file, { delayMs: 60_000 });
    store.save(state(1000));
    await store.flush();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(state(1000));
  });

  it('starts from defaults over a damaged file, and says so when it cannot write', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'heron-window-'));
    const file = path.join(dir, 'window-state.json');
    writeFileSync(file, '{"bounds":');
    expect(await windowStateStore(file).load()).toBeUndefined();
    const log = vi.fn();
    // Its parent is a file, so the directory cannot be made.
    const store = windowStateStore(path.join(file, 'nested.json'), { log });
    store.save(state(800));
    await store.flush();
    expect(log).toHaveBeenCalledWith(expect.stringContaining('could not save the window state'));
  });
});

describe('trackWindowState', () => {
  function fakeWindow() {
    const listeners = new Map<string, Array<(...args: unknown[]) => void>>();
    const on = (name: string, listener: (...args: unknown[]) => void) => {
      listeners.set(name, [...(listeners.get(name) ?? []), listener]);
    };
    let zoom = 0;
    const window = {
      bounds: { x: 100, y: 100, width: 1000, height: 700 },
      maximized: false,
      minimized: false,
      on,
      getNormalBounds: () => window.bounds,
      isMaximized: () => window.maximized,
      isMinimized: () => window.minimized,
      isDestroyed: () => false,
      webContents: { on, getZoomLevel: () => zoom, setZoomLevel: (level: number) => void (zoom = level) },
    };
    const emit = (name: string, ...args: unknown[]) => listeners.get(name)?.forEach((listener) => listener(...args));
    return { window, emit, zoom: () => zoom };
  }
  const store = () => ({ load: vi.fn(), latest: vi.fn(), save: vi.fn(), flush: vi.fn(async () => {}) });

  it('saves size, position and maximized state as they change, and flushes on close', () => {
    const { window, emit } = fakeWindow();
    const states = store();
    trackWindowState(window as never, states, 'linux');
    window.bounds = { x: 200, y: 150, width: 1200, height: 800 };
    emit('resize');
    window.maximized = true;
    emit('maximize');
    expect(states.save.mock.calls.map(([saved]) => saved)).toEqual([
      { bounds: { x: 200, y: 150, width: 1200, height: 800 }, maximized: false, zoomLevel: 0 },
      { bounds: { x: 200, y: 150, width: 1200, height: 800 }, maximized: true, zoomLevel: 0 },
    ]);
    // Minimized, the window's state is not worth keeping (it reopens where it was).
    window.minimized = true;
    emit('move');
    expect(states.save).toHaveBeenCalledTimes(2);
    emit('close');
    expect(states.flush).toHaveBeenCalledOnce();
  });

  it('zooms on Ctrl +/-/0 before the page sees the keys, and on Ctrl+wheel, and saves the zoom', () => {
    const { window, emit, zoom } = fakeWindow();
    const states = store();
    trackWindowState(window as never, states, 'linux');
    const press = (key: string) => {
      const event = { preventDefault: vi.fn() };
      emit('before-input-event', event, { type: 'keyDown', key, control: true, meta: false, alt: false });
      return event.preventDefault.mock.calls.length > 0;
    };
    expect(press('+')).toBe(true);
    expect(press('+')).toBe(true);
    expect(zoom()).toBe(1);
    emit('zoom-changed', {}, 'out');
    expect(zoom()).toBe(0.5);
    expect(states.save).toHaveBeenLastCalledWith(expect.objectContaining({ zoomLevel: 0.5 }));
    expect(press('0')).toBe(true);
    expect(zoom()).toBe(0);
    // Other keys reach the page.
    expect(press('k')).toBe(false);
  });
});

describe('spellCheckLanguages', () => {
  const hunspell = ['de-DE', 'en-GB', 'en-US', 'fr', 'pt-BR', 'pt-PT', 'sv'];

  it('takes the system languages that have dictionaries, in preference order', () => {
    expect(spellCheckLanguages(['fr-FR', 'en-US'], hunspell)).toEqual(['fr', 'en-US']);
    expect(spellCheckLanguages(['pt-PT', 'sv-SE'], hunspell)).toEqual(['pt-PT', 'sv']);
  });

  it('falls back to a dictionary of the base language, once each', () => {
    expect(spellCheckLanguages(['de-AT', 'de-CH', 'en-AU'], hunspell)).toEqual(['de-DE', 'en-GB']);
  });

  it('uses English when none of the system languages has a dictionary, and nothing without one', () => {
    expect(spellCheckLanguages(['tlh', 'ja-JP'], hunspell)).toEqual(['en-US']);
    expect(spellCheckLanguages([], hunspell)).toEqual(['en-US']);
    expect(spellCheckLanguages(['ja-JP'], ['de-DE'])).toEqual([]);
  });
});
