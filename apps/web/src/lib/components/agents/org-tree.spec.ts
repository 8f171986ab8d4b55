import { describe, expect, it } from 'vitest';
import { buildOrgTree } from './org-tree';

const p = (id: string, reportsTo: string | null = null) => ({ id, name: id, reportsTo });

describe('buildOrgTree', () => {
	it('nests reports under their manager, humans and agents alike', () => {
		const tree = buildOrgTree([p('ada'), p('bot', 'ada'), p('bob', 'ada'), p('sub', 'bot')]);
		expect(tree.map((n) => n.member.id)).toEqual(['ada']);
		expect(tree[0]!.reports.map((n) => n.member.id)).toEqual(['bob', 'bot']);
		expect(tree[0]!.reports[1]!.reports.map((n) => n.member.id)).toEqual(['sub']);
	});

	it('treats an unknown manager as no manager', () => {
		expect(buildOrgTree([p('a', 'gone')]).map((n) => n.member.id)).toEqual(['a']);
	});

	it('places everyone once even when reporting lines loop', () => {
		const tree = buildOrgTree([p('a', 'b'), p('b', 'a'), p('c', 'c')]);
		const ids: string[] = [];
		const walk = (nodes: typeof tree) => nodes.forEach((n) => (ids.push(n.member.id), walk(n.reports)));
		walk(tree);
		expect(ids.sort()).toEqual(['a', 'b', 'c']);
	});
});
