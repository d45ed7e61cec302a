// docs/benchmark.svg from the benchmark's results: per-item time of the three ways to make the
// same calls, and (when measured) the fleet runs against their ideal. Plain SVG, no dependencies.
import { writeFileSync } from 'node:fs';

const COLORS = {
	sparkbot: '#ff6d5a',
	http: '#7b8794',
	outside: '#ffb3a8',
	floor: '#2f9e62',
	ideal: '#c5cbd3',
};

function escape(text) {
	return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** Horizontal bars: [{ label, value, text, color }] scaled to the largest value. */
function bars(rows, { x, y, width, barHeight = 22, gap = 10, labelWidth = 200 }) {
	const max = Math.max(...rows.map((r) => r.value));
	return rows
		.map((row, i) => {
			const top = y + i * (barHeight + gap);
			const length = Math.max(2, ((width - labelWidth - 110) * row.value) / max);
			return [
				`<text x="${x}" y="${top + barHeight * 0.7}" font-size="13">${escape(row.label)}</text>`,
				`<rect x="${x + labelWidth}" y="${top}" width="${length.toFixed(1)}" height="${barHeight}" rx="3" fill="${row.color}"/>`,
				`<text x="${x + labelWidth + length + 8}" y="${top + barHeight * 0.7}" font-size="13" font-weight="600">${escape(row.text)}</text>`,
			].join('');
		})
		.join('\n');
}

export function writeChart(file, results) {
	const width = 760;
	const p = results.perItemMs;
	const parts = [];
	let y = 30;
	parts.push(
		`<text x="20" y="${y}" font-size="16" font-weight="700">Per item, one after another (lower is better)</text>`,
	);
	y += 12;
	const perItem = (label, value, color) => ({
		label,
		value,
		text: `${value.toFixed(2)} ms`,
		color,
	});
	const perItemRows = [
		perItem('SparkBot node in n8n', p.sparkbot, COLORS.sparkbot),
		perItem('HTTP Request node in n8n', p.http, COLORS.http),
		...(p.outside === undefined
			? []
			: [perItem('SparkBot node outside n8n', p.outside, COLORS.outside)]),
		perItem('plain fetch loop (floor)', p.floor, COLORS.floor),
	];
	parts.push(bars(perItemRows, { x: 20, y, width }));
	y += perItemRows.length * 32 + 16;
	parts.push(
		`<text x="20" y="${y}" font-size="12" fill="#555">n8n ${escape(results.n8n)}, Node ${escape(results.node)}, ${escape(results.machine)}; (T(1000) − T(1)) / 999, median of ${results.repeats}; a lean server on loopback</text>`,
	);
	if (results.fleet?.length) {
		y += 40;
		parts.push(
			`<text x="20" y="${y}" font-size="16" font-weight="700">200 numbers, each held 1 s (Wait For Session)</text>`,
		);
		y += 12;
		const rows = [];
		for (const f of results.fleet) {
			rows.push({
				label: `Concurrency ${f.concurrency}`,
				value: f.ms,
				text: `${(f.ms / 1000).toFixed(1)} s`,
				color: COLORS.sparkbot,
			});
			rows.push({
				label: `  ideal ceil(200/${f.concurrency}) × 1 s`,
				value: f.idealMs,
				text: `${f.idealMs / 1000} s`,
				color: COLORS.ideal,
			});
		}
		parts.push(bars(rows, { x: 20, y, width }));
		y += rows.length * 32;
	}
	const height = y + 20;
	const svg = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
		`<rect width="100%" height="100%" fill="#fff"/>`,
		...parts,
		'</svg>',
		'',
	].join('\n');
	writeFileSync(file, svg);
}
