/**
 * `use:dropFiles={add}`: files dragged from the desktop onto the element are handed to `add`.
 * While they hover it carries `data-dropping` (for a highlight). Dragged text is left alone.
 */
export function dropFiles(node: HTMLElement, add: (files: FileList) => void) {
	let handler = add;
	let depth = 0; // dragenter/leave fire for every child crossed
	const carriesFiles = (e: DragEvent) => !!e.dataTransfer?.types.includes('Files');
	const set = (on: boolean) => (on ? node.setAttribute('data-dropping', '') : node.removeAttribute('data-dropping'));

	function enter(e: DragEvent) {
		if (!carriesFiles(e)) return;
		depth++;
		set(true);
	}
	function over(e: DragEvent) {
		if (!carriesFiles(e)) return;
		e.preventDefault(); // allows the drop
		e.dataTransfer!.dropEffect = 'copy';
	}
	function leave(e: DragEvent) {
		if (!carriesFiles(e)) return;
		depth = Math.max(0, depth - 1);
		if (depth === 0) set(false);
	}
	function drop(e: DragEvent) {
		depth = 0;
		set(false);
		const files = e.dataTransfer?.files;
		if (!files || files.length === 0) return;
		e.preventDefault();
		handler(files);
	}
	node.addEventListener('dragenter', enter);
	node.addEventListener('dragover', over);
	node.addEventListener('dragleave', leave);
	node.addEventListener('drop', drop);
	return {
		update(next: (files: FileList) => void) {
			handler = next;
		},
		destroy() {
			node.removeEventListener('dragenter', enter);
			node.removeEventListener('dragover', over);
			node.removeEventListener('dragleave', leave);
			node.removeEventListener('drop', drop);
		}
	};
}
