// The dataset page's image dialog: a click on the backdrop (outside the dialog's box) closes it;
// previous/next buttons and the arrow keys step through the grid's images in its order.

/** A click on a modal <dialog>'s backdrop targets the dialog itself, outside its box. */
export function isOutsideClick(
  e: { clientX: number; clientY: number; target: unknown },
  dialog: { getBoundingClientRect(): { left: number; right: number; top: number; bottom: number } }
): boolean {
  if (e.target !== dialog) return false
  const r = dialog.getBoundingClientRect()
  return e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom
}

/** The grid position `delta` away from `pos`, or null past either end. */
export function stepPos(pos: number, delta: number, total: number): number | null {
  const next = pos + delta
  return next >= 0 && next < total ? next : null
}

/** The step an arrow key asks for: ←/↑ previous, →/↓ next, anything else none. */
export function stepOfKey(key: string): -1 | 0 | 1 {
  if (key === 'ArrowLeft' || key === 'ArrowUp') return -1
  if (key === 'ArrowRight' || key === 'ArrowDown') return 1
  return 0
}
