import { errorMessage } from '$lib/api';

/**
 * One form's or button's request in flight: `busy` while it runs, and the server's message in
 * `error` if it fails (shown as-is: the API's messages say what to do).
 */
export class Pending {
	busy = $state(false);
	error = $state<string | null>(null);

	async run(task: () => Promise<unknown>): Promise<void> {
		this.busy = true;
		this.error = null;
		try {
			await task();
		} catch (err) {
			this.error = errorMessage(err);
		} finally {
			this.busy = false;
		}
	}
}
