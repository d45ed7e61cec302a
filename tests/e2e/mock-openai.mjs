// A scripted stand-in for an LLM, so that a real n8n AI Agent can drive the SparkBot tool without
// any network: an OpenAI-compatible `POST /v1/chat/completions` (what n8n's OpenAI Chat Model node
// sends with "Use Responses API" off), playing one fixed conversation:
//   1. no tool result in the messages yet → call the tool whose name matches `toolMatch`, with
//      `toolArguments` (the values the agent "chose" for the tool's $fromAI() parameters; or a
//      function of the offered tool that returns them);
//   2. a tool result is there → a final answer that quotes it.
// Every request is kept in `requests` (parsed body), so tests can see the tools n8n offered.
import { createServer } from 'node:http';

/**
 * Starts the mock on 127.0.0.1 (a free port). The n8n credential `openAiApi` points at it with
 * `{ apiKey: <anything>, url: mock.baseUrl }`. Returns `{ baseUrl, requests, close() }`.
 */
export async function startMockOpenAi({ toolMatch, toolArguments }) {
	const requests = [];
	let calls = 0;

	function answer(body) {
		const toolResults = (body.messages ?? []).filter((message) => message.role === 'tool');
		if (toolResults.length > 0) {
			return {
				role: 'assistant',
				content: `Done. The tool answered: ${toolResults.map((m) => m.content).join('\n')}`,
			};
		}
		const tool = (body.tools ?? [])
			.map((t) => t.function)
			.find((f) => toolMatch.test(f?.name ?? ''));
		if (!tool) return { role: 'assistant', content: 'No SparkBot tool was offered.' };
		calls += 1;
		return {
			role: 'assistant',
			content: null,
			tool_calls: [
				{
					id: `call_${calls}`,
					type: 'function',
					function: {
						name: tool.name,
						arguments: JSON.stringify(
							typeof toolArguments === 'function' ? toolArguments(tool) : toolArguments,
						),
					},
				},
			],
		};
	}

	const server = createServer(async (req, res) => {
		let raw = '';
		for await (const chunk of req) raw += chunk;
		const path = new URL(req.url, 'http://mock').pathname;
		const send = (status, value) => {
			res.writeHead(status, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify(value));
		};
		if (req.method !== 'POST' || path !== '/v1/chat/completions') {
			return send(404, {
				error: { message: `no route for ${req.method} ${path}`, type: 'invalid_request_error' },
			});
		}
		let body;
		try {
			body = JSON.parse(raw);
		} catch {
			return send(400, {
				error: { message: 'the body is not JSON', type: 'invalid_request_error' },
			});
		}
		requests.push(body);
		if (body.stream)
			return send(400, {
				error: { message: 'this mock does not stream', type: 'invalid_request_error' },
			});
		const message = answer(body);
		send(200, {
			id: `chatcmpl-${requests.length}`,
			object: 'chat.completion',
			created: Math.floor(Date.now() / 1000),
			model: body.model,
			choices: [
				{
					index: 0,
					message,
					logprobs: null,
					finish_reason: message.tool_calls ? 'tool_calls' : 'stop',
				},
			],
			usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
		});
	});
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	return {
		baseUrl: `http://127.0.0.1:${server.address().port}/v1`,
		requests,
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
