// The hub features hear each other through: every listener and provider counts, none
// displaces another, and one that fails does not silence the rest.
import { describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { Hooks } from '../../main/core/features/hooks';

describe('hooks', () => {
  it('tells every listener, in the order they came', () => {
    const hooks = new Hooks(() => {});
    const heard: string[] = [];
    hooks.on('roster.items', (items) => heard.push(`first ${items.length}`));
    hooks.on('roster.items', (items) => heard.push(`second ${items.length}`));
    hooks.notify('roster.items', [{ jid: 'bob@heron.test', subscription: 'both', groups: [] }]);
    expect(heard).toEqual(['first 1', 'second 1']);
  });

  it('logs a listener that throws and still tells the others', () => {
    const logged: string[] = [];
    const hooks = new Hooks((_level, message) => logged.push(message));
    let heard = 0;
    hooks.on('presence.changed', () => {
      throw new Error('boom');
    });
    hooks.on('presence.changed', () => heard++);
    hooks.notify('presence.changed', undefined);
    expect(heard).toBe(1);
    expect(logged).toEqual(['a listener of presence.changed failed: boom']);
  });

  it('collects what every provider gives at the time of asking', () => {
    const hooks = new Hooks(() => {});
    expect(hooks.collect('presence.extensions')).toEqual([]);
    let ver = '1';
    hooks.provide('presence.extensions', () => xml('c', { ver }));
    hooks.provide('presence.extensions', () => xml('idle'));
    ver = '2';
    expect(hooks.collect('presence.extensions').map((element) => element.toString())).toEqual(['<c ver="2"/>', '<idle/>']);
  });
});
