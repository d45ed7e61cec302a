// The example workflows as n8n stores them (IDs of n8n's format) and as the canvas draws them: no sticky note over a node, no edge through a
// node it does not connect, no two nodes on top of each other. n8n places a node's 100 × 100 box
// at its position (top left); an edge runs from the source's right side to the target's left
// side, drawn here as the straight line between them (n8n's curve stays close to it).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { root } from './harness.mjs';

const NODE = 100;
const STICKY = 'n8n-nodes-base.stickyNote';

const examples = readdirSync(join(root, 'examples'))
	.filter((file) => file.endsWith('.json'))
	.map((file) => [file, JSON.parse(readFileSync(join(root, 'examples', file), 'utf8'))]);

const box = (node) =>
	node.type === STICKY
		? {
				x: node.position[0],
				y: node.position[1],
				w: node.parameters.width ?? 240,
				h: node.parameters.height ?? 160,
			}
		: { x: node.position[0], y: node.position[1], w: NODE, h: NODE };

const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Whether the segment from p to q crosses the box (shrunk by a margin, so touching is fine). */
function crosses([px, py], [qx, qy], { x, y, w, h }, margin = 8) {
	const [left, right, top, bottom] = [x + margin, x + w - margin, y + margin, y + h - margin];
	for (let i = 0; i <= 200; i++) {
		const t = i / 200;
		const [sx, sy] = [px + (qx - px) * t, py + (qy - py) * t];
		if (sx > left && sx < right && sy > top && sy < bottom) return true;
	}
	return false;
}

describe('the examples as n8n stores them', () => {
	// n8n saves a workflow's static data only for an ID of its own format (1.x: at most 16
	// characters, 2.x: 21): with a longer one, a trigger's state and a webhook's secret are lost.
	test('every workflow and credential ID is one n8n makes: 16 letters and digits', () => {
		for (const [file, workflow] of examples) {
			assert.match(workflow.id, /^[A-Za-z0-9]{16}$/, file);
			for (const node of workflow.nodes)
				for (const [type, credential] of Object.entries(node.credentials ?? {}))
					assert.match(credential.id, /^[A-Za-z0-9]{16}$/, `${file}: ${node.name}, ${type}`);
		}
	});
});

describe('the examples on the canvas', () => {
	for (const [file, workflow] of examples) {
		test(`${file}: notes clear of nodes, nodes apart, edges only through their own ends`, () => {
			const nodes = workflow.nodes.filter((n) => n.type !== STICKY);
			const notes = workflow.nodes.filter((n) => n.type === STICKY);
			for (const note of notes)
				for (const node of nodes)
					assert.ok(!overlap(box(note), box(node)), `the note covers ${node.name}`);
			for (const [i, a] of nodes.entries())
				for (const b of nodes.slice(i + 1))
					assert.ok(!overlap(box(a), box(b)), `${a.name} and ${b.name} overlap`);
			const byName = new Map(nodes.map((n) => [n.name, n]));
			for (const [from, { main = [] }] of Object.entries(workflow.connections)) {
				for (const target of main.flat()) {
					const [source, sink] = [byName.get(from), byName.get(target.node)];
					const start = [source.position[0] + NODE, source.position[1] + NODE / 2];
					const end = [sink.position[0], sink.position[1] + NODE / 2];
					for (const other of nodes.filter((n) => n !== source && n !== sink))
						assert.ok(
							!crosses(start, end, box(other)),
							`the edge ${from} → ${target.node} runs through ${other.name}`,
						);
				}
			}
		});
	}
});
