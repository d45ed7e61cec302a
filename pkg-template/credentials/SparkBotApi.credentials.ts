import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** API key credential for the SparkBot WhatsApp API. */
export class SparkBotApi implements ICredentialType {
	name = 'sparkBotApi';

	displayName = 'SparkBot API';

	icon = {
		light: 'file:../nodes/SparkBot/sparkbot.svg',
		dark: 'file:../nodes/SparkBot/sparkbot.dark.svg',
	} as const;

	documentationUrl = 'https://github.com/sparkbot/n8n-nodes-sparkbot#credential-sparkbot-api';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'The API key of your SparkBot account, sent in the Token header',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.sparkbot.io/v1',
			description:
				'Where the SparkBot API lives. Change it only for a regional or self-hosted deployment, or a local simulator (http://127.0.0.1:PORT/v1).',
		},
		{
			displayName: 'Allow Insecure HTTP',
			name: 'allowInsecureHttp',
			type: 'boolean',
			default: false,
			description:
				'Whether to send the API key over plain http:// to a host other than this machine. Without it the node refuses such a Base URL; http:// to localhost or 127.0.0.1 always works.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Token: '={{$credentials.apiKey.trim()}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/devices',
			qs: { size: 1 },
			headers: { Accept: 'application/json' },
		},
	};
}
