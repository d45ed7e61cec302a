import type {
	IDataObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INode,
	INodeExecutionData,
	INodePropertyOptions,
	INodeType,
	INodeTypeDescription,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import generatedDescription from '../../../node-descriptor/SparkBot.description.json';

import { callCore, isCoreError } from './wasm';

/**
 * SparkBot: reboot or reset the WhatsApp session of a SparkBot number.
 *
 * The description is generated from Rust (`node-descriptor/`), and all logic — validation,
 * HTTP, error shaping — runs in the Rust core. This class only adapts n8n's calling convention.
 */
export class SparkBot implements INodeType {
	/**
	 * The description generated from Rust. `icon`, `subtitle` and `usableAsTool` are repeated here
	 * because n8n's lint reads them from this class; the package tests check they equal the
	 * generated ones.
	 */
	description: INodeTypeDescription = {
		...(generatedDescription as unknown as INodeTypeDescription),
		icon: { light: 'file:sparkbot.svg', dark: 'file:sparkbot.dark.svg' },
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		usableAsTool: true,
	};

	methods = {
		loadOptions: {
			/** Fills the WhatsApp Number dropdown with every device of the account. */
			async getDevices(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				const credentials = await this.getCredentials('sparkBotApi');
				try {
					return (await callCore((core) => core.loadDevices(credentials))) as INodePropertyOptions[];
				} catch (error) {
					throw toNodeError(this.getNode(), error);
				}
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const credentials = await this.getCredentials('sparkBotApi');
		const continueOnFail = this.continueOnFail();
		const node = this.getNode();

		// Every item's parameters first (expressions are resolved here), then one call into the
		// core, which validates them all, sends them (Concurrency at once) and answers per item.
		// A parameter without an expression is the same for every item, so it is read only once.
		const sameForAll = new Map<string, unknown>();
		const read = (name: string, itemIndex: number, fallback?: object): unknown => {
			if (sameForAll.has(name)) return sameForAll.get(name);
			const value = this.getNodeParameter(name, itemIndex, fallback);
			if (!hasExpression(node.parameters[name])) sameForAll.set(name, value);
			return value;
		};
		const parameters: Array<Record<string, unknown> | null> = [];
		const unreadable = new Map<number, NodeApiError | NodeOperationError>();
		for (let i = 0; i < items.length; i++) {
			try {
				parameters.push({
					resource: read('resource', i),
					operation: read('operation', i),
					device: read('device', i),
					options: read('options', i, {}),
				});
			} catch (error) {
				const nodeError = toNodeError(node, error, i);
				if (!continueOnFail) throw nodeError;
				unreadable.set(i, nodeError);
				parameters.push(null); // the core sends nothing for it
			}
		}
		// Stopping the execution in n8n aborts every request in flight, waits included.
		const cancel = this.getExecutionCancelSignal?.();
		let outcomes: unknown[];
		try {
			outcomes = await callCore((core) => core.executeItems(parameters, credentials, !continueOnFail, cancel));
		} catch (error) {
			// The core could not run at all (it could not be loaded, or it crashed): every item fails.
			const nodeError = toNodeError(node, error);
			if (!continueOnFail) throw nodeError;
			return [items.map((_, i) => ({ json: { error: nodeError.message }, pairedItem: { item: i } }))];
		}

		const results: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			const outcome: unknown = unreadable.get(i) ?? outcomes[i];
			if (outcome === undefined) break; // not run: an earlier item failed and stops the run
			if (outcome instanceof Error) {
				const nodeError = toNodeError(node, outcome, i);
				if (!continueOnFail) throw nodeError;
				results.push({ json: { error: nodeError.message }, pairedItem: { item: i } });
			} else {
				results.push({ json: outcome as IDataObject, pairedItem: { item: i } });
			}
		}
		return [results];
	}
}

/** Whether a parameter value holds an n8n expression anywhere (`"={{ … }}"`). */
function hasExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(hasExpression);
	if (value !== null && typeof value === 'object') return Object.values(value).some(hasExpression);
	return false;
}

/** The one place where errors become n8n error classes. */
function toNodeError(node: INode, error: unknown, itemIndex?: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (!isCoreError(error)) {
		return new NodeOperationError(node, error instanceof Error ? error : String(error), { itemIndex });
	}
	const { message, description, code } = error;
	if (error.kind === 'operation') {
		return new NodeOperationError(node, message, { itemIndex, description });
	}
	const httpCode = error.httpCode === null ? undefined : String(error.httpCode);
	const response: JsonObject = { message, code, httpCode: httpCode ?? null };
	return new NodeApiError(node, response, { itemIndex, message, description, httpCode });
}
