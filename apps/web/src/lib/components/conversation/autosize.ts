/** Grows a textarea with its content (up to its CSS max-height). Pass the value to re-measure. */
export function autosize(node: HTMLTextAreaElement, _value: string) {
	const fit = () => {
		node.style.height = 'auto';
		node.style.height = `${node.scrollHeight}px`;
	};
	fit();
	return { update: fit };
}
