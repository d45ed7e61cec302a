import type {
	IDataObject,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
} from 'n8n-workflow';

import generatedDescription from '../../../node-descriptor/SparkBotTrigger.description.json';

import { getDevices, hostFor, runCore, sparkBotApiTest } from '../SparkBot/shared';

/** The key of the trigger's remembered statuses in the node's static data. */
const STATE_KEY = 'sessions';

/**
 * The poll contexts that have polled already. n8n makes one context per activation and polls
 * with it until the workflow is deactivated, so a context not in here is an activation's first
 * poll: the core hears how the workflow was activated then (a user's publish starts afresh;
 * n8n's own start-up continues from the remembered statuses).
 */
const polledBefore = new WeakSet<object>();

/**
 * SparkBot Trigger: starts a workflow when the WhatsApp session of a SparkBot number changes.
 *
 * A polling trigger: each poll reads the account in the Rust core, which compares it with the
 * statuses remembered in the node's static data and says what to report. This class only hands
 * n8n's parameters and static data over, and the reported devices back.
 */
export class SparkBotTrigger implements INodeType {
	/**
	 * The description generated from Rust. `icon`, `subtitle`, `polling` and `credentials` are
	 * repeated here because n8n's lint reads them from this class; the package tests check they
	 * equal the generated ones.
	 */
	description: INodeTypeDescription = {
		...(generatedDescription as unknown as INodeTypeDescription),
		icon: { light: 'file:../SparkBot/sparkbot.svg', dark: 'file:../SparkBot/sparkbot.dark.svg' },
		subtitle: '={{"Session status changed"}}',
		polling: true,
		credentials: [{ name: 'sparkBotApi', required: true, testedBy: 'sparkBotApiTest' }],
	};

	methods = {
		loadOptions: { getDevices },
		credentialTest: { sparkBotApiTest },
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const credentials = await this.getCredentials('sparkBotApi');
		const staticData = this.getWorkflowStaticData('node');
		const event = this.getNodeParameter('event', null);
		const filters = this.getNodeParameter('filters', {});
		const manual = this.getMode() === 'manual';
		const activation = polledBefore.has(this) ? undefined : this.getActivationMode();
		polledBefore.add(this);
		const host = hostFor((options) => this.helpers.httpRequest(options));
		// A failed poll throws: the remembered statuses stay as they were.
		const polled = await runCore<{ items: IDataObject[]; state?: IDataObject }>(
			this.getNode(),
			(core) =>
				core.pollSessions(
					credentials,
					staticData[STATE_KEY],
					event,
					filters,
					manual,
					activation,
					host,
				),
		);
		if (polled.state !== undefined) staticData[STATE_KEY] = polled.state;
		if (polled.items.length === 0) return null;
		return [this.helpers.returnJsonArray(polled.items)];
	}
}
