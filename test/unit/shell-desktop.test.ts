// The desktop parts of the shell with fakes for Electron's objects: tray state and tray,
// notifications, xmpp: links from the command line and the OS, launch at login.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { App, Menu, MenuItemConstructorOptions, NativeImage, Notification, NotificationConstructorOptions } from 'electron';
import type { AccountView, EventName, Settings, SettingsPatch } from '../../preload/contract';
import type { Core } from '../../main/core';
import { DEFAULT_SETTINGS, mergeSettings } from '../../main/core/settings';
import { desktopShell } from '../../main/shell/desktop';
import { DEFAULT_TRAY_PREFS, hidesOnClose, trayState, type TrayAction } from '../../main/shell/tray-policy';
import { applyLaunchAtLogin, autostartEntry, ShellTray } from '../../main/shell/tray';
import { electronNotifier } from '../../main/shell/notifier';
import { listenForOpenUrl, listenForSecondInstance, uriFromArgv, UriRelay } from '../../main/shell/single-instance';

const account = (id: string, state: AccountView['connection']['state'], show: AccountView['presence']['show'] = 'available'): AccountView => ({
  id,
  jid: `${id}@example.org`,
  enabled: true,
  connection: { state, attempt: 0 },
  presence: { show },
});

describe('trayState', () => {
  it('icon and tooltip: offline without an account online, unread with messages, else normal', () => {
    expect(trayState({ accounts: [], unread: 0, windowVisible: true })).toMatchObject({ icon: 'offline', tooltip: 'Heron — no account' });
    expect(trayState({ accounts: [account('a', 'waiting')], unread: 3, windowVisible: true })).toMatchObject({ icon: 'offline', tooltip: 'Heron — offline' });
    expect(trayState({ accounts: [account('a', 'waiting'), account('b', 'online')], unread: 3, windowVisible: true })).toMatchObject({
      icon: 'unread',
      tooltip: 'Heron — 3 unread messages',
    });
    expect(trayState({ accounts: [account('a', 'online')], unread: 1, windowVisible: true }).tooltip).toBe('Heron — 1 unread message');
    expect(trayState({ accounts: [account('a', 'online')], unread: 0, windowVisible: true })).toMatchObject({ icon: 'normal', tooltip: 'Heron' });
  });

  it('menu: show or hide, one status for all accounts (checked when shared), quit', () => {
    const state = trayState({ accounts: [account('a', 'online', 'dnd'), account('b', 'online', 'dnd')], unread: 0, windowVisible: false });
    expect(state.menu[0]).toEqual({ kind: 'item', label: 'Show Heron', action: { kind: 'toggle-window' } });
    const status = state.menu[1]!;
    expect(status.kind === 'submenu' && status.items.map((i) => i.kind === 'item' && [i.label, i.checked])).toEqual([
      ['Available', false],
      ['Away', false],
      ['Not available', false],
      ['Do not disturb', true],
    ]);
    expect(state.menu.at(-1)).toEqual({ kind: 'item', label: 'Quit Heron', action: { kind: 'quit' } });
    expect(trayState({ accounts: [account('a', 'online'), account('b', 'online', 'away')], unread: 0, windowVisible: true }).menu[0]).toMatchObject({ label: 'Hide Heron' });
    const mixed = trayState({ accounts: [account('a', 'online'), account('b', 'online', 'away')], unread: 0, windowVisible: true }).menu[1]!;
    expect(mixed.kind === 'submenu' && mixed.items.some((i) => i.kind === 'item' && i.checked)).toBe(false);
    const none = trayState({ accounts: [], unread: 0, windowVisible: true }).menu[1]!;
    expect(none.kind === 'submenu' && none.enabled).toBe(false);
  });

  it('close hides to the tray only with the setting on, a tray shown, and not while quitting', () => {
    expect(hidesOnClose(DEFAULT_TRAY_PREFS, true, false)).toBe(false);
    const on = { ...DEFAULT_TRAY_PREFS, closeToTray: true };
    expect(hidesOnClose(on, true, false)).toBe(true);
    expect(hidesOnClose(on, false, false)).toBe(false);
    expect(hidesOnClose(on, true, true)).toBe(false);
  });
});

describe('ShellTray', () => {
  function fakeTray() {
    const image = (name: string) => ({ name }) as unknown as NativeImage;
    const tray = Object.assign(new EventEmitter(), {
      images: [] as string[],
      tooltips: [] as string[],
      menus: [] as MenuItemConstructorOptions[][],
      setImage(i: NativeImage) {
        tray.images.push((i as unknown as { name: string }).name);
      },
      setToolTip(t: string) {
        tray.tooltips.push(t);
      },
      setContextMenu(m: Menu | null) {
        tray.menus.push(m as unknown as MenuItemConstructorOptions[]);
      },
      destroy() {},
    });
    const actions: TrayAction[] = [];
    let visible = true;
    const shell = new ShellTray(
      {
        createTray: () => tray as never,
        buildMenu: (template) => template as unknown as Menu,
        icon: image,
        act: (a) => actions.push(a),
        windowVisible: () => visible,
      },
      [account('a', 'online')],
    );
    return { tray, shell, actions, hide: () => (visible = false) };
  }

  it('draws the unread icon from the badge count and the offline icon when accounts drop', () => {
    const { tray, shell } = fakeTray();
    expect(tray.images).toEqual(['normal']);
    shell.setUnread(2);
    shell.setUnread(2); // unchanged: not drawn again
    shell.hear('account.changed', account('a', 'waiting'));
    expect(tray.images).toEqual(['normal', 'unread', 'offline']);
    expect(tray.tooltips.at(-1)).toBe('Heron — offline');
  });

  it('menu clicks become actions: status for all accounts, show/hide follows the window, quit', () => {
    const { tray, shell, actions, hide } = fakeTray();
    const menu = () => tray.menus.at(-1)!;
    const status = menu()[1]!.submenu as MenuItemConstructorOptions[];
    status[1]!.click!({} as never, undefined, {} as never);
    menu()[3]!.click!({} as never, undefined, {} as never);
    tray.emit('click');
    expect(actions).toEqual([{ kind: 'presence', show: 'away' }, { kind: 'quit' }, { kind: 'toggle-window' }]);
    expect(menu()[0]!.label).toBe('Hide Heron');
    hide();
    shell.redraw();
    expect(menu()[0]!.label).toBe('Show Heron');
    expect(status[0]).toMatchObject({ type: 'radio', checked: true, label: 'Available' });
  });
});

describe('electronNotifier', () => {
  function fake(supported = true) {
    const made: Array<EventEmitter & { options: NotificationConstructorOptions; shown: boolean; closed: boolean }> = [];
    class FakeNotification extends EventEmitter {
      shown = false;
      closed = false;
      constructor(readonly options: NotificationConstructorOptions) {
        super();
        made.push(this);
      }
      static isSupported = () => supported;
      show() {
        this.shown = true;
      }
      close() {
        this.closed = true;
      }
    }
    const opened: Array<number | undefined> = [];
    const replies: Array<[number, string]> = [];
    const badges: number[] = [];
    const sink = electronNotifier({
      Notification: FakeNotification as unknown as { new (o: NotificationConstructorOptions): Notification; isSupported(): boolean },
      app: { setBadgeCount: (n: number) => badges.push(n) > 0 } as Pick<App, 'setBadgeCount'>,
      open: (id) => opened.push(id),
      reply: (id, text) => replies.push([id, text]),
      log: () => {},
    });
    return { sink, made, opened, replies, badges };
  }
  const notice = { title: 'Bob', body: 'hi', group: 'conversation-3', silent: true, conversationId: 3, accountId: 'a1' };

  it('shows the notice with inline reply; a click opens the conversation, a reply is sent', () => {
    const f = fake();
    f.sink.show(notice);
    expect(f.made[0]!.options).toEqual({ title: 'Bob', body: 'hi', silent: true, hasReply: true, replyPlaceholder: 'Reply…' });
    expect(f.made[0]!.shown).toBe(true);
    f.made[0]!.emit('click');
    f.made[0]!.emit('reply', { reply: '  on my way ' });
    f.made[0]!.emit('reply', { reply: '   ' });
    expect(f.opened).toEqual([3]);
    expect(f.replies).toEqual([[3, 'on my way']]);
  });

  it('a newer notice of the group replaces the older; dismiss closes it; a summary has no reply', () => {
    const f = fake();
    f.sink.show(notice);
    f.sink.show({ ...notice, body: '2 new messages: hi' });
    expect(f.made[0]!.closed).toBe(true);
    f.sink.dismiss('conversation-3');
    expect(f.made[1]!.closed).toBe(true);
    f.sink.show({ title: 'Heron', body: '5 new messages in 3 chats', group: 'catch-up', silent: false });
    expect(f.made[2]!.options.hasReply).toBeUndefined();
    f.made[2]!.emit('click');
    expect(f.opened).toEqual([undefined]);
  });

  it('sets the badge, and shows nothing where the OS has no notifications', () => {
    const f = fake(false);
    f.sink.show(notice);
    f.sink.badge(4);
    expect(f.made).toEqual([]);
    expect(f.badges).toEqual([4]);
  });
});

describe('xmpp: links from the command line and the OS', () => {
  it('takes the last xmpp: argument, never a switch', () => {
    expect(uriFromArgv(['/usr/bin/heron', '--user-data-dir=/x', 'XMPP:bob@example.org?message'])).toBe('XMPP:bob@example.org?message');
    expect(uriFromArgv(['heron', 'xmpp:a@example.org', 'xmpp:b@example.org'])).toBe('xmpp:b@example.org');
    expect(uriFromArgv(['heron', '--xmpp:a@b', 'http://xmpp:x'])).toBeUndefined();
  });

  it('holds links until the core is up, then passes them straight through', () => {
    const relay = new UriRelay();
    for (let i = 0; i < 12; i++) relay.hand(`xmpp:u${i}@example.org`);
    const delivered: string[] = [];
    expect(relay.delivering).toBe(false);
    relay.attach((uri) => delivered.push(uri));
    relay.hand('xmpp:later@example.org');
    expect(delivered).toEqual([...Array.from({ length: 10 }, (_, i) => `xmpp:u${i + 2}@example.org`), 'xmpp:later@example.org']);
    expect(relay.delivering).toBe(true);
  });

  it('a second instance shows the window and hands over its link; open-url is taken from the OS', () => {
    const app = new EventEmitter() as unknown as App;
    const relay = new UriRelay();
    const delivered: string[] = [];
    let shown = 0;
    relay.attach((uri) => delivered.push(uri));
    listenForSecondInstance(app, relay, () => shown++);
    listenForOpenUrl(app, relay, () => shown++);
    (app as unknown as EventEmitter).emit('second-instance', {}, ['heron', 'xmpp:bob@example.org'], '/');
    (app as unknown as EventEmitter).emit('second-instance', {}, ['heron'], '/');
    let prevented = false;
    (app as unknown as EventEmitter).emit('open-url', { preventDefault: () => (prevented = true) }, 'xmpp:carol@example.org');
    expect(delivered).toEqual(['xmpp:bob@example.org', 'xmpp:carol@example.org']);
    expect(shown).toBe(3);
    expect(prevented).toBe(true);
  });
});

describe('launch at login', () => {
  function env(platform: NodeJS.Platform) {
    const calls: unknown[] = [];
    return {
      calls,
      env: {
        platform,
        app: { setLoginItemSettings: (s: unknown) => calls.push(['login-item', s]) } as unknown as Pick<App, 'setLoginItemSettings'>,
        execPath: '/opt/Heron/heron',
        autostartFile: '/home/u/.config/autostart/org.heron.Heron.desktop',
        fs: {
          writeFileSync: (f: string, t: string) => calls.push(['write', f, t]),
          rmSync: (f: string) => calls.push(['rm', f]),
          mkdirSync: (d: string) => calls.push(['mkdir', d]),
        },
        dirname: (f: string) => f.slice(0, f.lastIndexOf('/')),
      },
    };
  }

  it('macOS and Windows: the OS login item follows the setting', () => {
    const mac = env('darwin');
    applyLaunchAtLogin({ ...DEFAULT_TRAY_PREFS, launchAtLogin: true }, mac.env);
    applyLaunchAtLogin(DEFAULT_TRAY_PREFS, mac.env);
    expect(mac.calls).toEqual([
      ['login-item', { openAtLogin: true }],
      ['login-item', { openAtLogin: false }],
    ]);
  });

  it('Linux: an XDG autostart entry is written, and removed when turned off', () => {
    const linux = env('linux');
    applyLaunchAtLogin({ ...DEFAULT_TRAY_PREFS, launchAtLogin: true }, linux.env);
    applyLaunchAtLogin(DEFAULT_TRAY_PREFS, linux.env);
    expect(linux.calls).toEqual([
      ['mkdir', '/home/u/.config/autostart'],
      ['write', '/home/u/.config/autostart/org.heron.Heron.desktop', autostartEntry('/opt/Heron/heron')],
      ['rm', '/home/u/.config/autostart/org.heron.Heron.desktop'],
    ]);
    expect(autostartEntry('/opt/My "Heron"/$x')).toContain('Exec="/opt/My \\"Heron\\"/\\$x"');
  });
});

describe('desktopShell follows the settings', () => {
  const configHome = process.env.XDG_CONFIG_HOME;
  afterEach(() => {
    if (configHome === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = configHome;
  });

  async function attached(stored: Settings) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-desktop-'));
    process.env.XDG_CONFIG_HOME = dir;
    const listeners: Array<(event: EventName, payload: unknown) => void> = [];
    const core = {
      handle: async (command: string) => (command === 'settings.get' ? stored : command === 'accounts.list' ? [] : undefined),
      onEvent: (listener: (event: EventName, payload: unknown) => void) => {
        listeners.push(listener);
        return () => {};
      },
      openUri: () => {},
    } as unknown as Core;
    const loginItems: boolean[] = [];
    const app = Object.assign(new EventEmitter(), {
      isPackaged: false,
      quit: () => {},
      setBadgeCount: () => true,
      setLoginItemSettings: (s: { openAtLogin: boolean }) => loginItems.push(s.openAtLogin),
    });
    class FakeTray extends EventEmitter {
      setImage() {}
      setToolTip() {}
      setContextMenu() {}
      destroy() {}
    }
    const shell = desktopShell({
      app: app as unknown as App,
      Tray: FakeTray as never,
      Menu: { buildFromTemplate: (t: unknown) => t } as never,
      Notification: class {} as never,
      nativeImage: { createFromPath: () => ({ isEmpty: () => false }) as unknown as NativeImage },
      appRoot: dir,
      window: () => undefined,
      showWindow: () => {},
      log: () => {},
    });
    await shell.attach(core, new UriRelay());
    const change = (patch: SettingsPatch) => {
      stored = mergeSettings(stored, patch);
      for (const listener of listeners) listener('settings.changed', stored);
    };
    // A window closed by the user: whether the shell kept it (hid it to the tray).
    const close = () => {
      const window = Object.assign(new EventEmitter(), { hide: () => {} });
      app.emit('browser-window-created', {}, window);
      let prevented = false;
      window.emit('close', { preventDefault: () => (prevented = true) });
      return prevented;
    };
    const autostart = path.join(dir, 'autostart', 'org.heron.Heron.desktop');
    const launchesAtLogin = () => (process.platform === 'linux' ? fs.existsSync(autostart) : loginItems.at(-1) === true);
    return { shell, change, close, launchesAtLogin };
  }

  it('close to tray and launch at login change with the setting, not only at start', async () => {
    const desktop = await attached(DEFAULT_SETTINGS);
    expect(desktop.close()).toBe(false);
    expect(desktop.launchesAtLogin()).toBe(false);
    desktop.change({ tray: { closeToTray: true, launchAtLogin: true } });
    expect(desktop.close()).toBe(true);
    expect(desktop.launchesAtLogin()).toBe(true);
    desktop.change({ tray: { launchAtLogin: false } });
    expect(desktop.launchesAtLogin()).toBe(false);
  });

  it('starts hidden with start minimized stored, the first window only', async () => {
    const desktop = await attached(mergeSettings(DEFAULT_SETTINGS, { tray: { startMinimized: true } }));
    expect(desktop.shell.startsHidden()).toBe(true);
    expect(desktop.shell.startsHidden()).toBe(false);
    expect((await attached(DEFAULT_SETTINGS)).shell.startsHidden()).toBe(false);
  });
});
