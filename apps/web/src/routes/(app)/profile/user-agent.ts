/**
 * "Chrome on macOS" from a User-Agent header, for the session list. Rough on purpose: it names
 * a device so a person recognises it; the full string is in the row's tooltip.
 */
export function describeUserAgent(ua: string | null): string {
	if (!ua) return 'Unknown device';
	const browser = /Edg\//.test(ua)
		? 'Edge'
		: /Firefox\//.test(ua)
			? 'Firefox'
			: /Chrom(e|ium)\//.test(ua)
				? 'Chrome'
				: /Safari\//.test(ua)
					? 'Safari'
					: null;
	const os = /iPhone|iPad/.test(ua)
		? 'iOS'
		: /Android/.test(ua)
			? 'Android'
			: /Mac OS X|Macintosh/.test(ua)
				? 'macOS'
				: /Windows/.test(ua)
					? 'Windows'
					: /CrOS/.test(ua)
						? 'ChromeOS'
						: /Linux/.test(ua)
							? 'Linux'
							: null;
	if (browser && os) return `${browser} on ${os}`;
	return browser ?? os ?? ua.slice(0, 40);
}
