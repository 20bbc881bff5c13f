import { describe, expect, it, vi } from 'vitest';
import { commandNames, ipcCommandChannel, IPC_EVENT_CHANNEL, type EventName } from '../../preload/contract';
import { CommandFailure } from '../../main/core';
import { registerIpc, type IpcDeps } from '../../main/shell/ipc';

const appUrl = 'heron://app/index.html';
type Handler = (event: unknown, payload: unknown) => Promise<unknown>;

function setup(handle: (command: string, payload: unknown) => Promise<unknown> = async () => 'result') {
  const handlers = new Map<string, Handler>();
  const ipcMain = {
    handle: vi.fn((channel: string, handler: Handler) => void handlers.set(channel, handler)),
    removeHandler: vi.fn((channel: string) => void handlers.delete(channel)),
  };
  let emit: (event: EventName, payload: unknown) => void = () => {};
  const stopEvents = vi.fn();
  const core = {
    handle: vi.fn(handle),
    onEvent: vi.fn((listener: typeof emit) => {
      emit = listener;
      return stopEvents;
    }),
  };
  const mainFrame = { frameTreeNodeId: 1, url: `${appUrl}#/` };
  const contents = { mainFrame, send: vi.fn(), isDestroyed: () => false };
  let open = true;
  const log = vi.fn();
  const dispose = registerIpc({
    ipcMain,
    core,
    target: () => (open ? contents : undefined),
    appUrl,
    log,
  } as unknown as IpcDeps);
  const call = (command: string, payload: unknown, event: unknown = { sender: contents, senderFrame: mainFrame }) => {
    const handler = handlers.get(ipcCommandChannel(command as never));
    if (!handler) throw new Error(`no handler for ${command}`);
    return handler(event, payload);
  };
  return { handlers, core, contents, mainFrame, log, dispose, call, stopEvents, emit: (e: EventName, p: unknown) => emit(e, p), close: () => (open = false) };
}

describe('registerIpc', () => {
  it('registers exactly one handler per contract command', () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual(commandNames.map(ipcCommandChannel).sort());
  });

  it('answers our page with the result in an envelope', async () => {
    const { call, core } = setup();
    await expect(call('accounts.list', {})).resolves.toEqual({ ok: true, result: 'result' });
    expect(core.handle).toHaveBeenCalledWith('accounts.list', {});
  });

  it('carries a CommandFailure’s code and message in the envelope', async () => {
    const { call } = setup(() => Promise.reject(new CommandFailure('invalid-payload', 'jid: expected an address')));
    await expect(call('accounts.add', { jid: 'x' })).resolves.toEqual({
      ok: false,
      error: { code: 'invalid-payload', message: 'jid: expected an address' },
    });
  });

  it('hides an unexpected error’s details from the page and logs them', async () => {
    const { call, log } = setup(() => Promise.reject(new TypeError('secret internals')));
    await expect(call('accounts.list', {})).resolves.toEqual({
      ok: false,
      error: { code: 'internal', message: 'Something went wrong.' },
    });
    expect(log).toHaveBeenCalledWith('error', expect.stringContaining('secret internals'));
  });

  it('refuses senders other than our window’s top frame on our page, before the core sees anything', async () => {
    const { call, core, contents, mainFrame, close } = setup();
    const stranger = { mainFrame: { frameTreeNodeId: 9 } };
    const refusals = [
      { sender: stranger, senderFrame: stranger.mainFrame },
      { sender: contents, senderFrame: { frameTreeNodeId: 2, url: appUrl } },
      { sender: contents, senderFrame: { ...mainFrame, url: 'https://example.org/' } },
      // Our page's file, but not from our origin.
      { sender: contents, senderFrame: { ...mainFrame, url: 'file:///opt/Heron/resources/app.asar/dist/renderer/index.html' } },
      { sender: contents, senderFrame: null },
    ];
    for (const event of refusals) await expect(call('accounts.list', {}, event)).rejects.toThrow('refused');
    close();
    await expect(call('accounts.list', {})).rejects.toThrow('refused');
    expect(core.handle).not.toHaveBeenCalled();
  });

  it('forwards core events to our window while it is open', () => {
    const { emit, contents, close } = setup();
    emit('message.added', { id: 1 });
    expect(contents.send).toHaveBeenCalledWith(IPC_EVENT_CHANNEL, { event: 'message.added', payload: { id: 1 } });
    close();
    emit('message.added', { id: 2 });
    expect(contents.send).toHaveBeenCalledTimes(1);
  });

  it('undoes everything on dispose', () => {
    const { dispose, handlers, stopEvents } = setup();
    dispose();
    expect(handlers.size).toBe(0);
    expect(stopEvents).toHaveBeenCalledOnce();
  });
});
