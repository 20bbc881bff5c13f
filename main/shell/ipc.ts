// ipcMain wiring: one handler per contract command, each checking who is asking before the
// core sees the payload, and the core's events forwarded to our window. Electron objects come
// in as parameters (types only here), so this runs under Node in the unit tests.
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { commandNames, ipcCommandChannel, IPC_EVENT_CHANNEL, type CommandName } from '../../preload/contract';
import type { Envelope, EventFrame } from '../../preload/bridge';
import { CommandFailure, type Core } from '../core';
import { isTrustedSender } from './security';

export type IpcDeps = {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  core: Pick<Core, 'handle' | 'onEvent'>;
  /** The webContents of our window while it is open: the only one served and told events. */
  target: () => Pick<WebContents, 'mainFrame' | 'send' | 'isDestroyed'> | undefined;
  /** Our renderer's index page on its own origin (APP_URL, heron://app/index.html). */
  appUrl: string;
  log: (level: 'warn' | 'error', message: string) => void;
};

/** Registers the handlers and event forwarding; the returned function undoes both. */
export function registerIpc(deps: IpcDeps): () => void {
  for (const command of commandNames) {
    deps.ipcMain.handle(ipcCommandChannel(command), (event, payload) => serve(deps, command, event, payload));
  }
  const stopEvents = deps.core.onEvent((event, payload) => {
    const contents = deps.target();
    if (contents === undefined || contents.isDestroyed()) return;
    const frame: EventFrame = { event, payload };
    contents.send(IPC_EVENT_CHANNEL, frame);
  });
  return () => {
    stopEvents();
    for (const command of commandNames) deps.ipcMain.removeHandler(ipcCommandChannel(command));
  };
}

async function serve(
  deps: IpcDeps,
  command: CommandName,
  event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>,
  payload: unknown,
): Promise<Envelope> {
  const contents = deps.target();
  const frame = event.senderFrame;
  const sender = {
    fromOurWindow: contents !== undefined && event.sender === contents,
    isMainFrame: frame !== null && contents !== undefined && frame.frameTreeNodeId === contents.mainFrame.frameTreeNodeId,
    url: frame?.url,
  };
  if (!isTrustedSender(sender, deps.appUrl)) {
    deps.log('warn', `refused ${command} from ${sender.url ?? 'a closed frame'}`);
    // A stranger gets no envelope, only a rejected invoke.
    throw new Error('refused');
  }
  try {
    return { ok: true, result: await deps.core.handle(command, payload) };
  } catch (error) {
    if (error instanceof CommandFailure) return { ok: false, error: error.error };
    // The core turns its own failures into CommandFailure; anything else is a bug here.
    deps.log('error', `${command} failed: ${error instanceof Error ? error.stack : String(error)}`);
    return { ok: false, error: { code: 'internal', message: 'Something went wrong.' } };
  }
}
