// Modules that the build generates or maps (see scripts/build.mjs and tsconfig.json).

declare module 'sparkbot-descriptor' {
	/** The node description generated from Rust (node-descriptor/SparkBot.description.json). */
	const description: Record<string, unknown>;
	export default description;
}

declare module 'sparkbot-wasm-bytes' {
	/** The optimized wasm module, base64-encoded. */
	export const wasmBase64: string;
}
