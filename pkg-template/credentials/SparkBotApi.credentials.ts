import type { IAuthenticateGeneric, ICredentialType, INodeProperties } from 'n8n-workflow';

import generated from '../../node-descriptor/SparkBotApi.credential.json';

/**
 * API key credential for the SparkBot WhatsApp API. Its fields are generated from Rust
 * (`node-descriptor/`), where the node reads the same names and labels. The credential's Test is
 * the node's (`testedBy` on the node's credential): it runs in the Rust core and applies the
 * node's own rules — plain `http://` to another machine is refused before anything is sent.
 */
export class SparkBotApi implements ICredentialType {
	name = 'sparkBotApi';

	displayName = 'SparkBot API';

	icon = {
		light: 'file:../nodes/SparkBot/sparkbot.svg',
		dark: 'file:../nodes/SparkBot/sparkbot.dark.svg',
	} as const;

	documentationUrl = 'https://github.com/sparkbot/n8n-nodes-sparkbot#credential-sparkbot-api';

	properties: INodeProperties[] = generated.properties as INodeProperties[];

	/** For n8n's HTTP Request node (Predefined Credential Type → SparkBot API). */
	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Token: '={{$credentials.apiKey.trim()}}',
			},
		},
	};
}
