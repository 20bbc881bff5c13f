import vm from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { commandNames, ipcCommandChannel, IPC_EVENT_CHANNEL, type HeronApi } from '../../preload/contract';
import { createRawBridge, installHeron, type Envelope, type EventFrame, type RawBridge } from '../../preload/bridge';

const channels = {
  commands: Object.fromEntries(commandNames.map((name) => [name, ipcCommandChannel(name)])),
  events: IPC_EVENT_CHANNEL,
};

function fakeIpc(answer: (channel: string, payload: unknown) => Promise<unknown> = async () => ({ ok: true, result: 'r' })) {
  const subscriptions: { channel: string; listener: (event: unknown, frame: EventFrame) => void }[] = [];
  return {
    invoke: vi.fn(answer),
    on: vi.fn((channel: string, listener: (event: unknown, frame: EventFrame) => void) => void subscriptions.push({ channel, listener })),
    send(channel: string, frame: EventFrame) {
      for (const s of subscriptions) if (s.channel === channel) s.listener({}, frame);
    },
  };
}

describe('createRawBridge invoke', () => {
  it('sends a contract command on its channel and returns main’s envelope', async () => {
    const ipc = fakeIpc();
    const raw = createRawBridge(ipc, channels);
    await expect(raw.invoke('messages.page', { conversationId: 1, limit: 50 })).resolves.toEqual({ ok: true, result: 'r' });
    expect(ipc.invoke).toHaveBeenCalledWith('heron:cmd:messages.page', { conversationId: 1, limit: 50 });
  });

  it('refuses names that are not commands without asking main', async () => {
    const ipc = fakeIpc();
    const raw = createRawBridge(ipc, channels);
    for (const name of ['accounts.delete', 'toString', '__proto__', 'constructor', 'hasOwnProperty', '', 'heron:cmd:accounts.list']) {
      const envelope = await raw.invoke(name, {});
      expect(envelope, name).toMatchObject({ ok: false, error: { code: 'unknown-command' } });
    }
    expect(ipc.invoke).not.toHaveBeenCalled();
  });

  it('turns a refused invoke into a failed envelope', async () => {
    const raw = createRawBridge(
      fakeIpc(() => Promise.reject(new Error('No handler registered'))),
      channels,
    );
    await expect(raw.invoke('accounts.list', {})).resolves.toEqual({
      ok: false,
      error: { code: 'internal', message: 'No handler registered' },
    });
  });
});

describe('createRawBridge on', () => {
  it('delivers only the subscribed event, until unsubscribed, over one IPC listener', () => {
    const ipc = fakeIpc();
    const raw = createRawBridge(ipc, channels);
    const added: unknown[] = [];
    const changed: unknown[] = [];
    const stop = raw.on('message.added', (payload) => added.push(payload));
    raw.on('conversation.changed', (payload) => changed.push(payload));
    expect(ipc.on).toHaveBeenCalledTimes(1);

    ipc.send(IPC_EVENT_CHANNEL, { event: 'message.added', payload: 1 });
    ipc.send(IPC_EVENT_CHANNEL, { event: 'conversation.changed', payload: 2 });
    ipc.send('some:other:channel', { event: 'message.added', payload: 3 });
    stop();
    ipc.send(IPC_EVENT_CHANNEL, { event: 'message.added', payload: 4 });

    expect(added).toEqual([1]);
    expect(changed).toEqual([2]);
  });

  it('keeps delivering to the others when one listener throws', () => {
    const ipc = fakeIpc();
    const raw = createRawBridge(ipc, channels);
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const seen: unknown[] = [];
    raw.on('message.added', () => {
      throw new Error('view broke');
    });
    raw.on('message.added', (payload) => seen.push(payload));
    ipc.send(IPC_EVENT_CHANNEL, { event: 'message.added', payload: 'm' });
    expect(seen).toEqual(['m']);
    expect(error).toHaveBeenCalledOnce();
    error.mockRestore();
  });
});

describe('installHeron', () => {
  // Electron runs installHeron from its source text in the page's world; a fresh VM context
  // is such a world: nothing of this module is reachable from there.
  function installInFreshWorld(raw: RawBridge): { heron: HeronApi; world: vm.Context } {
    const world = vm.createContext({ raw });
    vm.runInContext(`(${installHeron.toString()})(raw)`, world);
    return { heron: world.heron as HeronApi, world };
  }

  const rawAnswering = (envelope: Envelope): RawBridge => ({ invoke: async () => envelope, on: () => () => {} });

  it('defines a frozen window.heron that resolves with the result', async () => {
    const { heron } = installInFreshWorld(rawAnswering({ ok: true, result: [] }));
    expect(Object.isFrozen(heron)).toBe(true);
    await expect(heron.invoke('accounts.list', {})).resolves.toEqual([]);
  });

  it('rejects with an Error of the page’s world carrying the message, code and field', async () => {
    const { heron, world } = installInFreshWorld(
      rawAnswering({ ok: false, error: { code: 'conflict', message: 'alice@example.org is already set up.', field: 'jid' } }),
    );
    const error = await heron.invoke('accounts.add', { jid: 'alice@example.org', password: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(vm.runInContext('Error', world) as ErrorConstructor);
    expect(error).toMatchObject({ message: 'alice@example.org is already set up.', code: 'conflict', field: 'jid' });
  });

  it('passes subscriptions through to the raw bridge', () => {
    const stop = vi.fn();
    const on = vi.fn(() => stop);
    const { heron } = installInFreshWorld({ invoke: async () => ({ ok: true, result: null }), on });
    const listener = () => {};
    heron.on('account.changed', listener)();
    expect(on).toHaveBeenCalledWith('account.changed', listener);
    expect(stop).toHaveBeenCalledOnce();
  });
});
