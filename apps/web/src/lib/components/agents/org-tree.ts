export interface OrgPerson {
	id: string;
	name: string;
	reportsTo: string | null;
}

export interface OrgNode<T extends OrgPerson> {
	member: T;
	reports: OrgNode<T>[];
}

/**
 * The reporting tree: everyone whose manager is unknown (or nobody) is a root. A loop in the data
 * (A reports to B reports to A) cannot hang the page: each member is placed once, and members
 * left over on a loop become roots.
 */
export function buildOrgTree<T extends OrgPerson>(members: T[]): OrgNode<T>[] {
	const byId = new Map(members.map((m) => [m.id, m]));
	const children = new Map<string, T[]>();
	for (const m of members) {
		if (m.reportsTo && m.reportsTo !== m.id && byId.has(m.reportsTo)) {
			children.set(m.reportsTo, [...(children.get(m.reportsTo) ?? []), m]);
		}
	}
	const placed = new Set<string>();
	const grow = (m: T): OrgNode<T> => {
		placed.add(m.id);
		const reports = (children.get(m.id) ?? [])
			.filter((c) => !placed.has(c.id))
			.sort((a, b) => a.name.localeCompare(b.name))
			.map(grow);
		return { member: m, reports };
	};
	const sorted = [...members].sort((a, b) => a.name.localeCompare(b.name));
	const roots = sorted.filter((m) => !m.reportsTo || m.reportsTo === m.id || !byId.has(m.reportsTo)).map(grow);
	for (const m of sorted) if (!placed.has(m.id)) roots.push(grow(m));
	return roots;
}
