// Places a popover (Popover API, top layer) next to what opened it, kept inside the window.
export type Anchor = DOMRect | { x: number; y: number };

const MARGIN = 8;

/** Below the anchor, its start edge (or end edge, with `align: 'end'`) lined up; above it when there is no room below. */
export function placePopover(popover: HTMLElement, anchor: Anchor, align: 'start' | 'end' = 'start'): void {
  const box = 'width' in anchor ? anchor : new DOMRect(anchor.x, anchor.y, 0, 0);
  const { width, height } = popover.getBoundingClientRect();
  let left = align === 'end' ? box.right - width : box.left;
  left = Math.max(MARGIN, Math.min(left, window.innerWidth - width - MARGIN));
  let top = box.bottom + 4;
  if (top + height > window.innerHeight - MARGIN) top = Math.max(MARGIN, box.top - height - 4);
  popover.style.left = `${left}px`;
  popover.style.top = `${top}px`;
}
