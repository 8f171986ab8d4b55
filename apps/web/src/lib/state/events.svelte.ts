/** Typed app-wide events, for parts of the app that are far apart (sync layer → router). */
export interface AppEvents {
	/** The session ended (the relay closed with 4401, or a request answered 401). */
	signedOut: void;
}

type Handler<K extends keyof AppEvents> = (payload: AppEvents[K]) => void;

const handlers = new Map<keyof AppEvents, Set<(payload: never) => void>>();

export function on<K extends keyof AppEvents>(name: K, handler: Handler<K>): () => void {
	let set = handlers.get(name);
	if (!set) handlers.set(name, (set = new Set()));
	set.add(handler as (payload: never) => void);
	return () => set.delete(handler as (payload: never) => void);
}

export function emit<K extends keyof AppEvents>(name: K, payload: AppEvents[K]) {
	for (const h of handlers.get(name) ?? []) (h as Handler<K>)(payload);
}
