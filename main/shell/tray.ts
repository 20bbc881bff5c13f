// The tray icon and its menu (state from tray-policy.ts), and the settings that go with it:
// close to tray, start minimized, launch at login. Electron objects come in as parameters.
import type { App, Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import type { AccountView, EventName, EventPayloads } from '../../preload/contract';
import { trayState, type TrayAction, type TrayIcon, type TrayMenuItem, type TrayPrefs } from './tray-policy';

export type TrayDeps = {
  createTray(image: NativeImage): Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu' | 'on' | 'destroy'>;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  icon(variant: TrayIcon): NativeImage;
  act(action: TrayAction): void;
  windowVisible(): boolean;
};

/** The tray icon's pixel size per platform: a Linux status area draws larger than a Windows or macOS one. */
const TRAY_SIZE = (platform: NodeJS.Platform) => (platform === 'linux' ? 32 : 16);

/**
 * Where the tray PNGs of build/tray are (scripts/icons.mjs draws them): the packaged app ships
 * them as resources/tray (electron-builder.yml extraResources), a checkout has them in build/.
 * Electron picks the @2x file beside it on a HiDPI display.
 */
export function trayIconFile(
  variant: TrayIcon,
  env: { packaged: boolean; resourcesPath: string; appRoot: string; platform: NodeJS.Platform; join(...parts: string[]): string },
): string {
  const dir = env.packaged ? env.join(env.resourcesPath, 'tray') : env.join(env.appRoot, 'build/tray');
  return env.join(dir, `tray-${variant}-${TRAY_SIZE(env.platform)}.png`);
}

export class ShellTray {
  #accounts = new Map<string, AccountView>();
  #unread = 0;
  #drawn = '';
  readonly #tray: ReturnType<TrayDeps['createTray']>;

  constructor(
    private readonly deps: TrayDeps,
    accounts: readonly AccountView[],
  ) {
    for (const a of accounts) this.#accounts.set(a.id, a);
    this.#tray = deps.createTray(deps.icon('offline'));
    // A click on the icon itself (Windows, most Linux trays) shows or hides the window.
    this.#tray.on('click', () => deps.act({ kind: 'toggle-window' }));
    this.redraw();
  }

  hear<E extends EventName>(event: E, payload: EventPayloads[E]): void {
    if (event === 'account.changed') {
      const account = payload as AccountView;
      this.#accounts.set(account.id, account);
    } else if (event === 'account.removed') {
      this.#accounts.delete((payload as EventPayloads['account.removed']).accountId);
    } else {
      return;
    }
    this.redraw();
  }

  /** The unread count of the chat list, as the dock badge shows it. */
  setUnread(count: number): void {
    this.#unread = count;
    this.redraw();
  }

  /** Draws again when something shown changed (window shown or hidden too). */
  redraw(): void {
    const state = trayState({ accounts: [...this.#accounts.values()], unread: this.#unread, windowVisible: this.deps.windowVisible() });
    const drawn = JSON.stringify(state);
    if (drawn === this.#drawn) return;
    this.#drawn = drawn;
    this.#tray.setImage(this.deps.icon(state.icon));
    this.#tray.setToolTip(state.tooltip);
    this.#tray.setContextMenu(this.deps.buildMenu(state.menu.map((item) => this.#template(item))));
  }

  destroy(): void {
    this.#tray.destroy();
  }

  #template(item: TrayMenuItem): MenuItemConstructorOptions {
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'submenu':
        return { label: item.label, enabled: item.enabled, submenu: item.items.map((i) => this.#template(i)) };
      case 'item':
        return {
          label: item.label,
          ...(item.checked !== undefined ? { type: 'radio' as const, checked: item.checked } : {}),
          click: () => this.deps.act(item.action),
        };
    }
  }
}

/**
 * Launch at login. macOS and Windows keep it themselves (setLoginItemSettings); on Linux it is
 * an XDG autostart entry, written or removed here.
 */
export function applyLaunchAtLogin(
  prefs: TrayPrefs,
  env: {
    platform: NodeJS.Platform;
    app: Pick<App, 'setLoginItemSettings'>;
    execPath: string;
    autostartFile: string;
    fs: { writeFileSync(file: string, text: string): void; rmSync(file: string, options: { force: true }): void; mkdirSync(dir: string, options: { recursive: true }): void };
    dirname(file: string): string;
  },
): void {
  if (env.platform !== 'linux') {
    env.app.setLoginItemSettings({ openAtLogin: prefs.launchAtLogin });
    return;
  }
  if (!prefs.launchAtLogin) {
    env.fs.rmSync(env.autostartFile, { force: true });
    return;
  }
  env.fs.mkdirSync(env.dirname(env.autostartFile), { recursive: true });
  env.fs.writeFileSync(env.autostartFile, autostartEntry(env.execPath));
}

/** The XDG autostart entry; the path is quoted as the Desktop Entry spec wants. */
export function autostartEntry(execPath: string): string {
  const quoted = `"${execPath.replace(/(["`$\\])/g, '\\$1')}"`;
  return ['[Desktop Entry]', 'Type=Application', 'Name=Heron', `Exec=${quoted}`, 'X-GNOME-Autostart-enabled=true', ''].join('\n');
}
