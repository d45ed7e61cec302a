import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import generatedDescription from '../../../node-descriptor/SparkBotWebhookTrigger.description.json';

import { getDevices, hostFor, runCore, sparkBotApiTest } from '../SparkBot/shared';

/** Static data: the webhook SparkBot calls (`{ webhookId, url, secret }`; never shown). */
const REGISTRATION_KEY = 'webhook';
/** Static data: the deliveries and changes seen lately (duplicates and late ones run nothing). */
const MEMORY_KEY = 'deliveries';
/** Bytes of randomness a webhook secret is made from. */
const SECRET_BYTES = 32;

/**
 * SparkBot Webhook Trigger: starts a workflow the moment the WhatsApp session of a SparkBot number
 * changes. SparkBot calls the workflow's webhook URL; n8n's webhook lifecycle (`checkExists`,
 * `create`, `delete`) registers and deletes the webhook, each time with a new secret.
 *
 * Every delivery is checked in the Rust core before anything runs — its signature (HMAC-SHA256,
 * constant-time), its timestamp (5 minutes at most), whether it was seen before or is older than
 * a change already seen — and the core says what to answer. This class only hands n8n's request
 * over and the answer back.
 */
export class SparkBotWebhookTrigger implements INodeType {
	/**
	 * The description generated from Rust. `icon`, `subtitle`, `webhooks` and `credentials` are
	 * repeated here because n8n's lint reads them from this class; the package tests check they
	 * equal the generated ones.
	 */
	description: INodeTypeDescription = {
		...(generatedDescription as unknown as INodeTypeDescription),
		icon: { light: 'file:../SparkBot/sparkbot.svg', dark: 'file:../SparkBot/sparkbot.dark.svg' },
		subtitle: '={{"Session status changed (instant)"}}',
		webhooks: [
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'sparkbot' },
		],
		credentials: [{ name: 'sparkBotApi', required: true, testedBy: 'sparkBotApiTest' }],
	};

	methods = {
		loadOptions: { getDevices },
		credentialTest: { sparkBotApiTest },
	};

	webhookMethods = {
		default: {
			/** Whether the webhook kept in static data still exists at SparkBot for this URL. */
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const staticData = this.getWorkflowStaticData('node');
				const credentials = await this.getCredentials('sparkBotApi');
				const host = hostFor((options) => this.helpers.httpRequest(options));
				return await runCore<boolean>(this.getNode(), (core) =>
					core.webhookExists(
						credentials,
						staticData[REGISTRATION_KEY],
						this.getNodeWebhookUrl('default') ?? '',
						host,
					),
				);
			},
			/** Registers the webhook with a new secret (an older one for this URL is replaced). */
			async create(this: IHookFunctions): Promise<boolean> {
				const staticData = this.getWorkflowStaticData('node');
				const credentials = await this.getCredentials('sparkBotApi');
				const host = hostFor((options) => this.helpers.httpRequest(options));
				const random = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
				staticData[REGISTRATION_KEY] = await runCore<IDataObject>(this.getNode(), (core) =>
					core.webhookCreate(
						credentials,
						staticData[REGISTRATION_KEY],
						this.getNodeWebhookUrl('default') ?? '',
						random,
						host,
					),
				);
				delete staticData[MEMORY_KEY];
				return true;
			},
			/** Deletes the webhook at SparkBot. */
			async delete(this: IHookFunctions): Promise<boolean> {
				const staticData = this.getWorkflowStaticData('node');
				const credentials = await this.getCredentials('sparkBotApi');
				const host = hostFor((options) => this.helpers.httpRequest(options));
				await runCore(this.getNode(), (core) =>
					core.webhookDelete(credentials, staticData[REGISTRATION_KEY], host),
				);
				delete staticData[REGISTRATION_KEY];
				delete staticData[MEMORY_KEY];
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject() as { rawBody?: Uint8Array };
		const headers = this.getHeaderData() as Record<string, string | string[] | undefined>;
		const header = (name: string) => {
			const value = headers[name];
			return typeof value === 'string' ? value : undefined;
		};
		const staticData = this.getWorkflowStaticData('node');
		// Read only for a delivery that runs: SparkBot delivers every number's changes.
		const credentials = async () => await this.getCredentials('sparkBotApi');
		const host = hostFor((options) => this.helpers.httpRequest(options));
		const received = await runCore<{ status: number; item?: IDataObject; memory?: IDataObject }>(
			this.getNode(),
			(core) =>
				core.receiveDelivery(
					// The process's memory is per workflow, node and mode: a test (the editor's
					// test URL, its own webhook) gets the same changes as the production webhook.
					`${this.getWorkflow().id ?? ''}:${this.getNode().id}:${this.getMode()}`,
					credentials,
					staticData[REGISTRATION_KEY],
					staticData[MEMORY_KEY],
					header('x-sparkbot-timestamp'),
					header('x-sparkbot-signature'),
					request.rawBody ?? new Uint8Array(),
					this.getNodeParameter('event', null),
					this.getNodeParameter('filters', {}),
					Date.now(),
					host,
				),
		);
		if (received.status !== 200) {
			// Nothing runs, and nothing says why: a forger learns nothing.
			const response = this.getResponseObject();
			response
				.status(received.status)
				.send(received.status === 401 ? 'Unauthorized' : 'Bad Request')
				.end();
			return { noWebhookResponse: true };
		}
		if (received.memory !== undefined) staticData[MEMORY_KEY] = received.memory;
		// Answered here, not by n8n's "onReceived": from n8n 2.30 on, n8n saves a webhook's static
		// data after it has started the execution, and starting it wraps the static data anew,
		// which drops the mark that it changed — the memory would never be saved, and a delivery
		// retried after a restart would run again. With `noWebhookResponse` n8n saves the static
		// data before it starts the execution (every n8n this package supports).
		this.getResponseObject().status(200).json({ received: true });
		if (received.item === undefined) return { noWebhookResponse: true };
		return {
			noWebhookResponse: true,
			workflowData: [this.helpers.returnJsonArray([received.item])],
		};
	}
}
