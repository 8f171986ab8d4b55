// A client-rendered app: the server serves build/200.html for every route and the browser does
// the rest, so it works offline from the service worker cache.
export const ssr = false;
export const prerender = false;
