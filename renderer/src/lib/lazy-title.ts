// A tooltip whose text is worked out only when someone points at or focuses the element:
// the full date of every message's time cost more than the rest of its row while scrolling.

/** Svelte action: sets `title` from `text()` on the first pointer or focus, and again after a change. */
export function lazyTitle(node: HTMLElement, text: () => string) {
  let current = text;
  let set = false;
  const fill = () => {
    if (set) return;
    node.title = current();
    set = true;
  };
  node.addEventListener('pointerenter', fill);
  node.addEventListener('focus', fill);
  return {
    update(next: () => string) {
      current = next;
      if (set) node.title = next();
    },
    destroy() {
      node.removeEventListener('pointerenter', fill);
      node.removeEventListener('focus', fill);
    },
  };
}
