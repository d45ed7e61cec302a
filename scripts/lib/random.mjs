// Seeded randomness for the tests that draw their inputs: the same seed gives the same inputs,
// and a failure prints the seed to rerun it.

/** xorshift32 from `seed`: `next()` in [0, 1), `int(n)` in [0, n), `pick(list)`, `chance(p)`. */
export function rng(seed) {
	let state = seed >>> 0 || 1;
	const next = () => {
		state ^= state << 13;
		state >>>= 0;
		state ^= state >>> 17;
		state ^= state << 5;
		state >>>= 0;
		return state / 2 ** 32;
	};
	const int = (n) => Math.floor(next() * n);
	const pick = (list) => list[int(list.length)];
	const chance = (p) => next() < p;
	return { next, int, pick, chance };
}
