/**
 * Whether a popover laid out below its anchor is cut off by the list that scrolls it, and fits
 * whole above the anchor: a message near the bottom of the list opens its picker and menu
 * upwards. When it fits neither way it stays below, where scrolling the list reaches it.
 */
export function clippedBelow(popover: HTMLElement): boolean {
	let scroller = popover.parentElement;
	while (scroller && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowY)) scroller = scroller.parentElement;
	const bounds = scroller ? scroller.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
	const box = popover.getBoundingClientRect();
	const anchor = popover.offsetParent?.getBoundingClientRect() ?? box;
	// 12 px: above, the popover clears the row's toolbar, which overhangs the row's top.
	return box.bottom > bounds.bottom && anchor.top - bounds.top >= box.height + 12;
}
