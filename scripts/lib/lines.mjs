// Line by line out of a stream of text chunks (a child process's stdout or stderr).
//
// Only Node built-ins here (scripts/lib/ runs before `npm ci`).

/**
 * A function to feed text chunks to, in order: it calls `onLine(line)` for every complete line
 * (without its '\n'); the unfinished end of a chunk waits for the next one.
 */
export function lineSplitter(onLine) {
	let partial = '';
	return (chunk) => {
		const lines = (partial + chunk).split('\n');
		partial = lines.pop();
		for (const line of lines) onLine(line);
	};
}
