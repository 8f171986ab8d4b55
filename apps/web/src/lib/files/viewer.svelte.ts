/**
 * The one in-app file viewer: any attachment opens it with its siblings (the message's other
 * files, or the Files page's list) so ←/→ can page through them. Its component loads on first use.
 */
import type { Attachment } from '@circlechat/model';

class Viewer {
	files = $state.raw<Attachment[]>([]);
	index = $state(-1);

	get current(): Attachment | null {
		return this.files[this.index] ?? null;
	}
	open(files: Attachment[], index: number) {
		this.files = files;
		this.index = index;
	}
	step(by: number) {
		if (this.files.length > 1) this.index = (this.index + by + this.files.length) % this.files.length;
	}
	close() {
		this.index = -1;
		this.files = [];
	}
}

export const viewer = new Viewer();
