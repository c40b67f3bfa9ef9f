/**
 * `@switchboard/node`: the typed backend SDK of Switchboard (HTTP API, user tokens, webhook
 * verification). See README.md beside this package.
 */
export { Switchboard, type SwitchboardOptions, type IterateMessagesOptions, type Message, type User, type Conversation, type ApiKey, type ApiKeyCreated, type WebhookEndpoint, type WebhookDelivery, type Upload, type UserToken } from "./client.js";
export { SwitchboardApiError, type SwitchboardErrorCode } from "./errors.js";
export { retryingFetch, type RetryOptions } from "./retrying-fetch.js";
export { mintUserToken, type LocalTokenSigner, type UserRole, type UserTokenInput } from "./user-token.js";
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookHeaders } from "./webhook-verify.js";
export type { components, paths } from "./generated/openapi.js";
