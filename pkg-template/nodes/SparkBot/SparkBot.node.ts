import type {
	IDataObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	INodeListSearchResult,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import generatedDescription from '../../../node-descriptor/SparkBot.description.json';

import {
	type CoreFailure,
	callCore,
	errorItem,
	getDevices,
	hostFor,
	runCore,
	sparkBotApiTest,
	toNodeError,
} from './shared';

/**
 * SparkBot: reboot or reset the WhatsApp session of a SparkBot number.
 *
 * The description is generated from Rust (`node-descriptor/`), and all logic — validation,
 * HTTP, error shaping, the credential test — runs in the Rust core. This class only adapts
 * n8n's calling convention.
 */
export class SparkBot implements INodeType {
	/**
	 * The description generated from Rust. `icon`, `subtitle`, `usableAsTool` and `credentials`
	 * are repeated here because n8n's lint reads them from this class; the package tests check
	 * they equal the generated ones.
	 */
	description: INodeTypeDescription = {
		...(generatedDescription as unknown as INodeTypeDescription),
		icon: { light: 'file:sparkbot.svg', dark: 'file:sparkbot.dark.svg' },
		subtitle:
			'={{ $parameter["operation"] === "reset" && (($parameter["options"] || {})["deleteAllData"] || ($parameter["options"] || {})["emptyQueue"]) ? "Reset · deletes " + [($parameter["options"] || {})["deleteAllData"] ? "data" : "", ($parameter["options"] || {})["emptyQueue"] ? "queue" : ""].filter(Boolean).join(" & ") : ({"reboot":"Reboot Session","reset":"Reset Session","getQrCode":"Get QR Code","get":"Get Number","getAll":"Get Many Numbers"})[$parameter["operation"]] }}',
		usableAsTool: true,
		credentials: [{ name: 'sparkBotApi', required: true, testedBy: 'sparkBotApiTest' }],
	};

	methods = {
		loadOptions: { getDevices },
		listSearch: {
			/**
			 * The WhatsApp Number list of version 2: without a filter one page of the account at a
			 * time; with one, every number whose alias, phone or ID matches.
			 */
			async getDevices(
				this: ILoadOptionsFunctions,
				filter?: string,
				paginationToken?: string,
			): Promise<INodeListSearchResult> {
				const credentials = await this.getCredentials('sparkBotApi');
				const host = hostFor((options) => this.helpers.httpRequest(options));
				return await runCore<INodeListSearchResult>(this.getNode(), (core) =>
					core.searchDevices(credentials, filter, paginationToken, host),
				);
			},
		},
		credentialTest: { sparkBotApiTest },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const credentials = await this.getCredentials('sparkBotApi');
		const continueOnFail = this.continueOnFail();
		const node = this.getNode();
		const toErrorOutput = node.onError === 'continueErrorOutput';

		// Every item's parameters first (expressions are resolved here), then one call into the
		// core, which validates them all, sends them (Concurrency at once) and answers per item.
		// A parameter without an expression is the same for every item, so it is read only once.
		const sameForAll = new Map<string, unknown>();
		const read = (name: string, itemIndex: number, fallback: unknown): unknown => {
			if (sameForAll.has(name)) return sameForAll.get(name);
			const fromItem = itemFieldValue(node.parameters[name], items[itemIndex]?.json);
			if (fromItem !== undefined) return fromItem;
			const value = this.getNodeParameter(name, itemIndex, fallback);
			if (!hasExpression(node.parameters[name])) sameForAll.set(name, value);
			return value;
		};
		// An item whose parameters n8n could not resolve (an expression failed) goes to the core
		// with n8n's error, which fails it like any other invalid item.
		const parameters: Array<Record<string, unknown>> = [];
		for (let i = 0; i < items.length; i++) {
			try {
				const item: Record<string, unknown> = {};
				for (const name of ITEM_PARAMETERS)
					item[name] = read(name, i, name === 'options' ? {} : null);
				parameters.push(item);
			} catch (error) {
				parameters.push({ unresolved: unresolved(error) });
			}
		}
		// Stopping the execution in n8n aborts every request in flight, waits included.
		const cancel = this.getExecutionCancelSignal?.();
		const host = hostFor((options) => this.helpers.httpRequest(options));
		const result = await callCore<Array<{ ok: unknown } | { error: CoreFailure }>>((core) =>
			core.executeItems(parameters, credentials, !continueOnFail, host, cancel),
		);
		if ('error' in result) {
			// Without continue-on-fail the core fails the run with the first failed item in input
			// order (validated before anything was sent, or the first that SparkBot refused); a
			// core that could not run at all (it could not be loaded, or it crashed) fails every item.
			if (!continueOnFail || result.error.itemIndex !== undefined)
				throw toNodeError(node, result.error);
			return [items.map((_, i) => errorItem(result.error, i, toErrorOutput))];
		}

		const output: INodeExecutionData[] = [];
		for (const [i, outcome] of result.ok.entries()) {
			if ('error' in outcome) {
				output.push(errorItem(outcome.error, i, toErrorOutput));
			} else if (parameters[i]?.operation === GET_QR_CODE) {
				output.push(await qrCodeItem.call(this, outcome.ok as QrCodeOutcome, i));
			} else {
				// Get Many answers a list: one output item per number, each paired with its input item.
				const objects = Array.isArray(outcome.ok) ? outcome.ok : [outcome.ok];
				for (const json of objects as IDataObject[]) output.push({ json, pairedItem: { item: i } });
			}
		}
		return [output];
	}
}

/** n8n's error for an item it could not resolve, as the core takes it. */
function unresolved(error: unknown): { message: string; description?: string } {
	if (!(error instanceof Error)) return { message: String(error) };
	const { description } = error as { description?: unknown };
	return typeof description === 'string' && description !== ''
		? { message: error.message, description }
		: { message: error.message };
}

/** Get QR Code's operation value. */
const GET_QR_CODE = 'getQrCode';

/** What the core answers for a Get QR Code item (`QrCode::to_value` in `src/core/qr.rs`). */
interface QrCodeOutcome {
	json: IDataObject;
	file: { data: string; fileName: string; mimeType: string };
	field: string;
}

/**
 * A Get QR Code item: its JSON, and the PNG as n8n binary data in the field the user named — n8n
 * stores it in its binary data service, so Send Email, Slack, Telegram or Teams attach it as is.
 * As an AI agent's tool the JSON leaves out `qr`, the text of the code: whoever has it can link
 * the number to their own device, and the model's provider should not see it.
 */
async function qrCodeItem(
	this: IExecuteFunctions,
	{ json, file, field }: QrCodeOutcome,
	itemIndex: number,
): Promise<INodeExecutionData> {
	const binary = await this.helpers.prepareBinaryData(
		Buffer.from(file.data, 'base64'),
		file.fileName,
		file.mimeType,
	);
	const asTool = this.getNode().type.endsWith('Tool');
	const shown: IDataObject = { ...json };
	if (asTool) {
		delete shown.qr;
		shown.qrCode = `not shown: the QR code is a PNG file (${file.fileName}) in the tool's output`;
	}
	return { json: shown, binary: { [field]: binary }, pairedItem: { item: itemIndex } };
}

/**
 * The parameters the core reads for every item (those of another resource or operation read as
 * `null`). The package tests check this list against the description generated from Rust.
 */
export const ITEM_PARAMETERS = [
	'resource',
	'operation',
	'device',
	'options',
	'returnAll',
	'limit',
	'filters',
	'binaryPropertyName',
] as const;

/** `={{ $json.name }}` or `={{ $json["name"] }}`: an expression that reads one field of the item. */
const ITEM_FIELD = /^=\{\{\s*\$json(?:\.([A-Za-z_$][\w$]*)|\[\s*(["'])([^"'\\]*)\2\s*\])\s*\}\}$/;

/**
 * What n8n resolves a parameter to when it only reads a text field of the item — the usual
 * `{{ $json.id }}` for WhatsApp Number, as a plain value (version 1) or as a resource locator's
 * value (version 2) — read straight from the item: n8n's expression engine costs about half a
 * millisecond per item, more than the request. `undefined` for anything else (a field that is
 * missing or not text included): then n8n resolves the parameter.
 */
function itemFieldValue(raw: unknown, json: IDataObject | undefined): unknown {
	const field = (text: unknown): string | undefined => {
		if (json === undefined || typeof text !== 'string') return undefined;
		const match = ITEM_FIELD.exec(text);
		const name = match?.[1] ?? match?.[3];
		if (name === undefined || !Object.hasOwn(json, name)) return undefined;
		const value = json[name];
		return typeof value === 'string' ? value : undefined;
	};
	if (typeof raw === 'string') return field(raw);
	if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
	const { value, ...rest } = raw as IDataObject;
	if (rest.__rl !== true || hasExpression(rest)) return undefined;
	const resolved = field(value);
	return resolved === undefined ? undefined : { ...rest, value: resolved };
}

/** Whether a parameter value holds an n8n expression anywhere (`"={{ … }}"`). */
function hasExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(hasExpression);
	if (value !== null && typeof value === 'object') return Object.values(value).some(hasExpression);
	return false;
}
