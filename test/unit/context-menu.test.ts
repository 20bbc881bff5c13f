import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { contextMenuItems, type ContextMenuFacts } from '../../main/shell/context-menu';
import { attachContextMenu } from '../../main/shell/window';

const nothing: ContextMenuFacts = {
  isEditable: false,
  selectionText: '',
  linkURL: '',
  misspelledWord: '',
  dictionarySuggestions: [],
  editFlags: { canCut: false, canCopy: false, canPaste: false, canSelectAll: false },
};
const allEdits = { canCut: true, canCopy: true, canPaste: true, canSelectAll: true };

function actions() {
  return { replaceMisspelling: vi.fn(), addToDictionary: vi.fn(), copyText: vi.fn() };
}

/** The menu as a user reads it: labels, separators as '—', disabled entries in brackets. */
function read(items: MenuItemConstructorOptions[]): string[] {
  return items.map((item) => (item.type === 'separator' ? '—' : item.enabled === false ? `(${item.label})` : (item.label ?? '')));
}

const click = (items: MenuItemConstructorOptions[], label: string) =>
  (items.find((item) => item.label === label)?.click as (() => void) | undefined)?.();

describe('contextMenuItems', () => {
  it('offers no menu on plain page background', () => {
    expect(contextMenuItems(nothing, actions())).toEqual([]);
  });

  it('offers copy and select all on selected message text', () => {
    const items = contextMenuItems({ ...nothing, selectionText: 'hello', editFlags: { ...nothing.editFlags, canCopy: true, canSelectAll: true } }, actions());
    expect(read(items)).toEqual(['Copy', 'Select all']);
    expect(items.map((item) => item.role)).toEqual(['copy', 'selectAll']);
  });

  it('offers cut, copy, paste and select all in the composer, enabled as the field allows', () => {
    const items = contextMenuItems({ ...nothing, isEditable: true, editFlags: { ...nothing.editFlags, canPaste: true, canSelectAll: true } }, actions());
    expect(read(items)).toEqual(['(Cut)', '(Copy)', 'Paste', 'Select all']);
  });

  it('puts spelling suggestions first on a misspelled word; choosing one replaces it', () => {
    const act = actions();
    const items = contextMenuItems(
      { ...nothing, isEditable: true, misspelledWord: 'helo', dictionarySuggestions: ['hello', 'help', 'halo', 'hell', 'held', 'helot'], editFlags: allEdits },
      act,
    );
    expect(read(items)).toEqual(['hello', 'help', 'halo', 'hell', 'held', 'Add to dictionary', '—', 'Cut', 'Copy', 'Paste', 'Select all']);
    click(items, 'help');
    expect(act.replaceMisspelling).toHaveBeenCalledWith('help');
    click(items, 'Add to dictionary');
    expect(act.addToDictionary).toHaveBeenCalledWith('helo');
  });

  it('says when there are no suggestions, and still offers the dictionary', () => {
    const items = contextMenuItems({ ...nothing, isEditable: true, misspelledWord: 'xyzzy', editFlags: allEdits }, actions());
    expect(read(items).slice(0, 3)).toEqual(['(No spelling suggestions)', 'Add to dictionary', '—']);
  });

  it('copies a link’s address', () => {
    const act = actions();
    const items = contextMenuItems({ ...nothing, linkURL: 'https://example.org/a' }, act);
    expect(read(items)).toEqual(['Copy link address']);
    click(items, 'Copy link address');
    expect(act.copyText).toHaveBeenCalledWith('https://example.org/a');
  });

  it('separates the groups of a link inside selected text', () => {
    const items = contextMenuItems({ ...nothing, linkURL: 'https://example.org/', selectionText: 'see', editFlags: allEdits }, actions());
    expect(read(items)).toEqual(['Copy link address', '—', 'Copy', 'Select all']);
  });
});

describe('attachContextMenu', () => {
  it('pops up the menu for a right click and wires its actions to the webContents and session', () => {
    let listener: ((event: unknown, params: ContextMenuFacts) => void) | undefined;
    const contents = {
      on: (_name: string, handler: typeof listener) => void (listener = handler),
      replaceMisspelling: vi.fn(),
      session: { addWordToSpellCheckerDictionary: vi.fn(() => true) },
    };
    const popup = vi.fn();
    let built: MenuItemConstructorOptions[] = [];
    const copy = vi.fn();
    attachContextMenu(contents as never, (items) => ((built = items), { popup }), copy);
    listener!({}, nothing);
    expect(popup).not.toHaveBeenCalled();
    listener!({}, { ...nothing, isEditable: true, misspelledWord: 'helo', dictionarySuggestions: ['hello'], editFlags: allEdits });
    expect(popup).toHaveBeenCalledOnce();
    click(built, 'hello');
    click(built, 'Add to dictionary');
    expect(contents.replaceMisspelling).toHaveBeenCalledWith('hello');
    expect(contents.session.addWordToSpellCheckerDictionary).toHaveBeenCalledWith('helo');
  });
});
