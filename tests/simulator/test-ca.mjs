// A certificate authority of the tests' own, as a company's internal CA would be: its PEM (what
// users hand to n8n with NODE_EXTRA_CA_CERTS) and a server certificate it signed for the names a
// test SparkBot answers under. Made with the openssl CLI into a fresh temporary folder; nothing
// is trusted system-wide.
//
//   const ca = makeTestCa({ names: ['sparkbot.test', 'localhost'], ips: ['127.0.0.1'] });
//   startSimulator({ tls: { key: ca.serverKey, cert: ca.serverCert } });
//   spawn(node, …, { env: { NODE_EXTRA_CA_CERTS: ca.caFile } });
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Makes a CA and a server certificate signed by it (valid for `days`, for `names` and `ips`).
 * Returns `{ dir, caFile, caCert, serverKey, serverCert, remove() }` (PEM texts; `caFile` the
 * CA's path).
 */
export function makeTestCa({ names = ['localhost'], ips = ['127.0.0.1'], days = 2 } = {}) {
	const dir = mkdtempSync(join(tmpdir(), 'sparkbot-ca-'));
	const file = (name) => join(dir, name);
	const openssl = (...args) =>
		execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
	try {
		openssl(
			'req',
			'-x509',
			'-newkey',
			'rsa:2048',
			'-nodes',
			'-keyout',
			file('ca.key'),
			'-out',
			file('ca.pem'),
			'-days',
			String(days),
			'-subj',
			'/CN=SparkBot Test Internal CA',
			'-addext',
			'basicConstraints=critical,CA:TRUE',
			'-addext',
			'keyUsage=critical,keyCertSign,cRLSign',
		);
		openssl(
			'req',
			'-newkey',
			'rsa:2048',
			'-nodes',
			'-keyout',
			file('server.key'),
			'-out',
			file('server.csr'),
			'-subj',
			`/CN=${names[0]}`,
		);
		const altNames = [...names.map((name) => `DNS:${name}`), ...ips.map((ip) => `IP:${ip}`)].join(
			',',
		);
		writeFileSync(
			file('server.ext'),
			`subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
		);
		openssl(
			'x509',
			'-req',
			'-in',
			file('server.csr'),
			'-CA',
			file('ca.pem'),
			'-CAkey',
			file('ca.key'),
			'-CAcreateserial',
			'-out',
			file('server.pem'),
			'-days',
			String(days),
			'-extfile',
			file('server.ext'),
		);
	} catch (error) {
		rmSync(dir, { recursive: true, force: true });
		const stderr = error.stderr ? String(error.stderr).trim() : error.message;
		throw new Error(`making the test CA with openssl failed: ${stderr}`);
	}
	return {
		dir,
		caFile: file('ca.pem'),
		caCert: readFileSync(file('ca.pem'), 'utf8'),
		serverKey: readFileSync(file('server.key'), 'utf8'),
		serverCert: readFileSync(file('server.pem'), 'utf8'),
		remove: () => rmSync(dir, { recursive: true, force: true }),
	};
}
