/**
 * Whether a popover laid out below its anchor is cut off by the list that scrolls it, and would
 * fit better above: a message near the bottom of the list opens its picker and menu upwards.
 */
export function clippedBelow(popover: HTMLElement): boolean {
	let scroller = popover.parentElement;
	while (scroller && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowY)) scroller = scroller.parentElement;
	const bounds = scroller ? scroller.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
	const box = popover.getBoundingClientRect();
	const anchor = popover.offsetParent?.getBoundingClientRect() ?? box;
	return box.bottom > bounds.bottom && anchor.top - bounds.top > bounds.bottom - anchor.bottom;
}
