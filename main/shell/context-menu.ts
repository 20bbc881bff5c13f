// The page's right-click menu, built from what Chromium says about the click (its
// context-menu params): spelling suggestions and "Add to dictionary" on a misspelled word, cut,
// copy, paste and select all as the focused element allows, and copying a link's address.
// A pure function of the params and the actions, so it is tested without Electron.
import type { ContextMenuParams, MenuItemConstructorOptions } from 'electron';

export type ContextMenuFacts = Pick<
  ContextMenuParams,
  'isEditable' | 'selectionText' | 'linkURL' | 'misspelledWord' | 'dictionarySuggestions'
> & { editFlags: Pick<ContextMenuParams['editFlags'], 'canCut' | 'canCopy' | 'canPaste' | 'canSelectAll'> };

export type ContextMenuActions = {
  replaceMisspelling: (word: string) => void;
  addToDictionary: (word: string) => void;
  copyText: (text: string) => void;
};

/** At most this many suggestions: a menu, not a thesaurus. */
const MAX_SUGGESTIONS = 5;

/** The menu's items, or none where a menu would only offer disabled entries. */
export function contextMenuItems(params: ContextMenuFacts, actions: ContextMenuActions): MenuItemConstructorOptions[] {
  const groups: MenuItemConstructorOptions[][] = [];
  if (params.isEditable && params.misspelledWord !== '') {
    const word = params.misspelledWord;
    const suggestions = params.dictionarySuggestions.slice(0, MAX_SUGGESTIONS);
    groups.push([
      ...(suggestions.length === 0
        ? [{ label: 'No spelling suggestions', enabled: false }]
        : suggestions.map((suggestion) => ({ label: suggestion, click: () => actions.replaceMisspelling(suggestion) }))),
      { label: 'Add to dictionary', click: () => actions.addToDictionary(word) },
    ]);
  }
  if (params.linkURL !== '') {
    const link = params.linkURL;
    groups.push([{ label: 'Copy link address', click: () => actions.copyText(link) }]);
  }
  const { editFlags } = params;
  const editing: MenuItemConstructorOptions[] = [];
  if (params.isEditable) editing.push({ role: 'cut', label: 'Cut', enabled: editFlags.canCut });
  if (params.isEditable || params.selectionText !== '') editing.push({ role: 'copy', label: 'Copy', enabled: editFlags.canCopy });
  if (params.isEditable) editing.push({ role: 'paste', label: 'Paste', enabled: editFlags.canPaste });
  if (params.isEditable || params.selectionText !== '') {
    editing.push({ role: 'selectAll', label: 'Select all', enabled: editFlags.canSelectAll });
  }
  if (editing.length > 0) groups.push(editing);
  return groups.flatMap((group, index) => (index === 0 ? group : [{ type: 'separator' as const }, ...group]));
}
