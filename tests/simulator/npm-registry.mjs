// A one-package npm registry for the tests: it serves a packed tarball the way
// registry.npmjs.org serves a published package (the packument `/<name>`, one version
// `/<name>/<version>` or `/<name>/latest`, and the tarball), so that n8n's own installer
// (Settings → Community Nodes: `npm pack <name>@<version>`, then `npm install` inside it) can
// install a package that is not published. Put behind a proxy that intercepts
// registry.npmjs.org (tests/simulator/forward-proxy.mjs), since n8n only lets a licensed instance
// point its installer at another registry.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * `tarball`: the path of an `npm pack` output. Returns `{ name, version, handler, requests }`;
 * `handler(req, res)` answers as the registry at `origin` would.
 */
export function packageRegistry({ tarball, origin = 'https://registry.npmjs.org' }) {
	const bytes = readFileSync(tarball);
	const manifest = JSON.parse(
		execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
	);
	const { name, version } = manifest;
	const file = `${name.split('/').pop()}-${version}.tgz`;
	const dist = {
		tarball: `${origin}/${name}/-/${file}`,
		shasum: createHash('sha1').update(bytes).digest('hex'),
		integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
	};
	const versionDoc = { ...manifest, _id: `${name}@${version}`, dist };
	const packument = {
		_id: name,
		name,
		'dist-tags': { latest: version },
		versions: { [version]: versionDoc },
		time: { created: new Date(0).toISOString(), [version]: new Date(0).toISOString() },
	};
	const requests = [];
	const json = (res, status, body) =>
		res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

	function handler(req, res) {
		const path = decodeURIComponent(new URL(req.url, origin).pathname);
		requests.push(`${req.method} ${path}`);
		if (path === `/${name}`) return json(res, 200, packument);
		if (path === `/${name}/${version}` || path === `/${name}/latest`)
			return json(res, 200, versionDoc);
		if (path === `/${name}/-/${file}`) {
			return res
				.writeHead(200, {
					'content-type': 'application/octet-stream',
					'content-length': bytes.length,
				})
				.end(bytes);
		}
		return json(res, 404, { error: 'Not found' });
	}
	return { name, version, handler, requests };
}
