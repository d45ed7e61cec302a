// Text for people: the end of a long output, and how long something took.
//
// Only Node built-ins here (scripts/lib/ runs before `npm ci`).

/** The last `lines` lines of `text` (trailing blank lines dropped first): the part of a log worth showing. */
export function tail(text, lines = 20) {
	return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The time since `started` (a `performance.now()`), e.g. `12.3 s`. */
export function seconds(started) {
	return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}
