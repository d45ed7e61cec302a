// The fault modes of the simulator, one per device in a 200-item batch (tests/dist and tests/e2e):
// [name, fault spec (null: no fault; 'invalid': a bad WhatsApp Number instead), what the item ends
// as ('ok' or the error code), how many requests it takes]. Run with Timeout 2 s.
// prettier-ignore
export const FAULT_MODES = Object.freeze([
	['ok', null, 'ok', 1],
	['hang', { fault: 'hang' }, 'SPARKBOT_TIMEOUT', 1],
	['drop', { fault: 'drop' }, 'SPARKBOT_NETWORK_ERROR', 1],
	['html502', { fault: 'html502' }, 'SPARKBOT_SERVICE_ERROR', 1],
	['empty500', { fault: 'empty500' }, 'SPARKBOT_SERVICE_ERROR', 1],
	['empty503 once', { fault: 'empty503', retryAfter: 0, times: 1 }, 'ok', 2],
	['truncated', { fault: 'truncated' }, 'SPARKBOT_NETWORK_ERROR', 1],
	['rateLimit once', { fault: 'rateLimit', retryAfter: 0, times: 1 }, 'ok', 2],
	['rateLimit always', { fault: 'rateLimit', retryAfter: 0 }, 'SPARKBOT_RATE_LIMITED', 3],
	['internal', { fault: 'internal' }, 'SPARKBOT_SERVICE_ERROR', 1],
	['unavailable once', { fault: 'unavailable', retryAfter: 0, times: 1 }, 'ok', 2],
	['notJson200', { fault: 'notJson200' }, 'SPARKBOT_INVALID_RESPONSE', 1],
	['array200', { fault: 'array200' }, 'SPARKBOT_INVALID_RESPONSE', 1],
	['null200', { fault: 'null200' }, 'SPARKBOT_INVALID_RESPONSE', 1],
	['busy', { fault: 'busy' }, 'SPARKBOT_SESSION_BUSY', 1],
	['stopped', { fault: 'stopped' }, 'SPARKBOT_SESSION_STOPPED', 1],
	['forbidden', { fault: 'forbidden' }, 'SPARKBOT_FORBIDDEN', 1],
	['sessionTimeout', { fault: 'sessionTimeout' }, 'SPARKBOT_TIMEOUT', 1],
	['badRequest', { fault: 'badRequest' }, 'SPARKBOT_BAD_REQUEST', 1],
	['delay', { fault: 'delay', delayMs: 200 }, 'ok', 1],
	['status 418', { fault: 'status', status: 418 }, 'SPARKBOT_SERVICE_ERROR', 1],
	['oversized', { fault: 'oversized', bytes: 10 * 1024 * 1024 + 1 }, 'SPARKBOT_INVALID_RESPONSE', 1],
	['oversized chunked', { fault: 'oversized', bytes: 10 * 1024 * 1024 + 1, chunked: true }, 'SPARKBOT_INVALID_RESPONSE', 1],
	['invalidUtf8', { fault: 'invalidUtf8' }, 'ok', 1],
	['deepJson', { fault: 'deepJson' }, 'SPARKBOT_INVALID_RESPONSE', 1],
	['bad parameter', 'invalid', 'SPARKBOT_INVALID_PARAMETER', 0],
]);
