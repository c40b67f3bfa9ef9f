/**
 * The Switchboard HTTP API's types, generated from the server's /openapi.json by openapi-typescript.
 * Do not edit: run `npm run generate -w node-sdk` after changing a route or schema.
 */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness
         * @description No API key. 200 while the process is up.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The process is up. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness
         * @description No API key. 200 when this node can serve (store reachable, listening, not shutting down); 503 otherwise.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Ready. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Readiness"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Not ready; `checks` says why. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Readiness"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List API keys
         * @description Revoked keys included (with `revokedAt`); secrets never. `lastUsedAt` is when the key last authenticated a request (recorded at most once a minute); `previousKeyExpiresAt`, after a rotation, is until when the replaced secret works.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Every key. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiKeyList"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Create an API key
         * @description The secret is in this response only; Switchboard stores its hash.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ApiKeyCreate"];
                };
            };
            responses: {
                /** @description The new key, with its secret. */
                201: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiKeyCreated"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke an API key
         * @description Takes effect on the next request made with the key.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked. */
                204: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate an API key
         * @description Gives the key a new secret, shown in this response only; its id, name and scopes stay. The replaced secret keeps working until `previousKeyExpiresAt` (API_KEY_ROTATION_GRACE_HOURS, default 24 h), so callers can switch without downtime; rotating again ends that grace at once. The key ADMIN_API_KEY configures is rotated by changing the variable (409 here).
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The key with its new secret. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ApiKeyCreated"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `conflict`: the request contradicts stored state (for example a taken id). */
                409: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a conversation
         * @description A `direct` conversation with the same two members already existing is returned as it is.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ConversationCreate"];
                };
            };
            responses: {
                /** @description The conversation. */
                201: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Conversation"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `conflict`: the request contradicts stored state (for example a taken id). */
                409: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a conversation */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The conversation with its members. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Conversation"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}/changes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read what changed since a revision
         * @description The current versions of the messages edited, deleted, reacted to, or given a thread reply after revision `afterRev`, oldest change first. Start from a conversation's `lastRev` and ask again with the answer's `lastRev` while `hasMore`. New messages are not changes: page them with `afterSeq`.
         */
        get: {
            parameters: {
                query: {
                    /** @description The revision already seen (a conversation's `lastRev`, or the `lastRev` of the previous answer); 0 for everything. */
                    afterRev: number;
                    /** @description Page size, 1 to 100 (default 100). */
                    limit?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of changed messages. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessageChanges"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Add a member
         * @description Idempotent: an existing member keeps its role and read position. Members are told with `conversation:updated`.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["MemberAdd"];
                };
            };
            responses: {
                /** @description The conversation after the change. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Conversation"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}/members/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove a member
         * @description Idempotent. The removed user's connections stop receiving the conversation at once.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    userId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The conversation after the change. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Conversation"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read message history
         * @description Pages by `seq`, oldest first. With `afterSeq`: the oldest page above it; with `beforeSeq` only, or neither: the newest page. Thread replies are part of the conversation's history; with `threadId`, the page holds only that thread's replies.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Only messages with `seq > afterSeq`: the oldest page above it (catching up after a reconnect). */
                    afterSeq?: number;
                    /** @description Only messages with `seq < beforeSeq`: the newest page below it (scrolling back). */
                    beforeSeq?: number;
                    /** @description Page size, 1 to 100 (default 50). */
                    limit?: number;
                    /** @description Only the replies of the thread under this top-level message, still paged by the conversation's `seq`. */
                    threadId?: string;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of messages. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessagePage"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Send a message
         * @description Stores the message as `senderId` (who must be a member) and delivers it live exactly like a socket send. Answers only once the message is durable. Counts against the sender's message rate limit (shared with their sockets). With `replyTo` it quotes another message; with `threadId` it is a reply in that message's thread: it still takes the conversation's next `seq`, gets the thread's next `threadSeq`, and the parent's `replyCount` moves (announced as `message:updated`).
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["MessageSend"];
                };
            };
            responses: {
                /** @description A retry with a known `(senderId, clientMessageId)`: the original message; nothing was stored. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Message"];
                    };
                };
                /** @description The message, newly stored. */
                201: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Message"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `conflict`: the request contradicts stored state (for example a taken id). */
                409: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}/messages/{messageId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a message
         * @description Deletes any message of the conversation. It keeps its `id` and `seq` (history has no gap): its text becomes empty, its attachments are removed, and it gets `deleted: true` and `deletedAt`. Members' joined connections receive it as `message:updated`. Deleting a deleted message answers it again (200).
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    messageId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The message as deleted. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Message"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Edit a message
         * @description Replaces the text (and the attachments, when given) of any message of the conversation and sets `editedAt`. Members' joined connections receive the new version as `message:updated`; history answers it from now on. A deleted message cannot be edited (409).
         */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    messageId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["MessageEdit"];
                };
            };
            responses: {
                /** @description The message as edited. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Message"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `conflict`: the request contradicts stored state (for example a taken id). */
                409: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/v1/conversations/{id}/messages/{messageId}/reactions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * React to a message for a member
         * @description Adds `userId`'s reaction; reacting again with the same emoji changes nothing and answers 200 all the same. A message carries at most 20 distinct emoji (400 for a new one beyond that). Members' joined connections receive the new version as `message:updated`; webhooks get `reaction.added`. A deleted message takes no reactions (409). Counts against the member's message rate limit.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    id: string;
                    messageId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ReactionAdd"];
                };
            };
            responses: {
                /** @description The message's current version, with its `reactions`. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Message"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `conflict`: the request contradicts stored state (for example a taken id). */
                409: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        /**
         * Take a member's reaction back
         * @description Removes `userId`'s reaction `emoji` (URL-encoded); removing one that is not there succeeds. Announced as `message:updated` and the `reaction.removed` webhook. Counts against the member's message rate limit.
         */
        delete: {
            parameters: {
                query: {
                    /** @description The emoji (URL-encoded) or `:shortcode:`. */
                    emoji: string;
                    /** @description The member whose reaction it is. */
                    userId: string;
                };
                header?: never;
                path: {
                    id: string;
                    messageId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The message's current version. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Message"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `conflict`: the request contradicts stored state (for example a taken id). */
                409: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/conversations/{id}/read": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mark messages read for a member
         * @description Moves the member's `lastReadSeq` forward to `seq` (never back), as `message:read` does for a connected client: for a backend that knows the user read elsewhere. Members' joined connections receive `receipt:read`, and pending offline notifications (a scheduled SMS) of those messages are cancelled.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["MarkRead"];
                };
            };
            responses: {
                /** @description The member's read position after the call. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ReadPosition"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email/unsubscribe/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Show the unsubscribe confirmation page
         * @description **No authentication: the signed token is the capability.** The page an email's unsubscribe link opens: it asks to confirm, so that a link scanner following the link unsubscribes nobody. Confirming POSTs to the same URL.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The signed token from the email's `List-Unsubscribe` link. */
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The confirmation page. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/html": string;
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Stop a conversation's emails (RFC 8058 one-click)
         * @description **No authentication: the signed token is the capability.** What a mail client POSTs (`List-Unsubscribe=One-Click`, `application/x-www-form-urlencoded`) when the user clicks its unsubscribe button, and what the confirmation page submits. Stops email about this conversation to this user (recorded in the email ledger; idempotent) and cancels the email already scheduled. Other channels and other conversations are unchanged.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The signed token from the email's `List-Unsubscribe` link. */
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Unsubscribed (or already). */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/html": string;
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/mutes/{conversationId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Mute a conversation (user token) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    conversationId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * Format: date-time
                         * @description Muted until then; absent: until unmuted.
                         * @example 2025-01-31T12:00:00.000Z
                         */
                        until?: string;
                    };
                };
            };
            responses: {
                /** @description The mute. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Mute"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        post?: never;
        /** Unmute a conversation (user token) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    conversationId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Unmuted. */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/notification-preferences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** My notification preferences (user token) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The preferences. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["NotificationPreferences"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change my notification preferences (user token) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["NotificationPreferencesPatch"];
                };
            };
            responses: {
                /** @description The preferences after the change. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["NotificationPreferences"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/v1/messages/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A message's delivery timeline
         * @description Every offline notification of the message: one entry per recipient and channel (Web Push, FCM, APNs, SMS) with its status and timeline (each attempt, retries, provider receipts). Members who were connected, or had read it, have none. The same changes reach webhooks as `delivery.updated`.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The deliveries, oldest first. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deliveries: components["schemas"]["Delivery"][];
                            messageId: string;
                        };
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/push/devices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List this user's push devices
         * @description Called with the **user token**. The caller's registered devices, oldest first.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The devices. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DeviceList"];
                    };
                };
                /** @description `unauthorized`: the user token is missing, expired or invalid; send `Authorization: Bearer <user token>`. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Register this phone for native push (APNs or FCM)
         * @description Called from the user's app with the **user token** (not an API key). Stores the device token for the token's user; registering a known token again moves it to this user. A user keeps at most PUSH_MAX_DEVICES_PER_USER (default 10) devices: one more drops their oldest. Pushes are sent while the user is offline everywhere and has not read the message (iOS through APNs when APNS_KEY_FILE is set, Android through FCM when FCM_SERVICE_ACCOUNT_FILE is set); a token the provider reports invalid (APNs 410 Unregistered or 400 BadDeviceToken, FCM UNREGISTERED) is removed.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["DeviceCreate"];
                };
            };
            responses: {
                /** @description The device, stored. */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Device"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the user token is missing, expired or invalid; send `Authorization: Bearer <user token>`. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/push/devices/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Unregister a phone from native push
         * @description Called with the **user token** (when the user signs out of the app). Removes the caller's device with this token.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    token: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed. */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the user token is missing, expired or invalid; send `Authorization: Bearer <user token>`. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/push/subscriptions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Register this browser for Web Push
         * @description Called from the user's browser with the **user token** (not an API key). Stores the subscription for the token's user; registering a known endpoint again updates its keys and moves it to this user. A user keeps at most PUSH_MAX_SUBSCRIPTIONS_PER_USER (default 10) subscriptions: one more drops their oldest. Pushes are sent while the user is offline everywhere and has not read the message; a push service answering 404 or 410 removes the subscription.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["PushSubscriptionCreate"];
                };
            };
            responses: {
                /** @description The subscription, stored. */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PushSubscription"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the user token is missing, expired or invalid; send `Authorization: Bearer <user token>`. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        /**
         * Unregister this browser from Web Push
         * @description Called from the user's browser with the **user token**. Removes the token user's subscription with this endpoint.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["PushSubscriptionDelete"];
                };
            };
            responses: {
                /** @description Removed. */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the user token is missing, expired or invalid; send `Authorization: Bearer <user token>`. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/push/vapid-public-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get the VAPID public key
         * @description **No authentication.** The key browsers subscribe with; it only changes when the server's VAPID keys are replaced (browsers must then subscribe again).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The key. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["VapidPublicKey"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mint a user token
         * @description Mints a user token (HS256 JWT) for the Socket.IO handshake, so your backend needs no JWT library. The user is recorded on first connection.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["TokenCreate"];
                };
            };
            responses: {
                /** @description The token and its expiry. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UserToken"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload a file
         * @description The request body is the file's bytes, as they are (no multipart), so a browser can send a `File` with `fetch` or `XMLHttpRequest` and show upload progress. Callable with the **user token** (the upload is that user's) or an API key with `write` (the backend's, or a user's with `userId`). The `Content-Type` is accepted whatever it says and not trusted: the type is detected from the bytes and must be one of UPLOAD_ALLOWED_TYPES. At most UPLOAD_MAX_BYTES (default 10 MiB); RATE_LIMIT_UPLOADS (default 30) uploads per minute per owner. Pictures are re-encoded without their metadata (EXIF, GPS position) and get a thumbnail. An upload that no message holds within UPLOAD_UNATTACHED_TTL_SECONDS is deleted. `Idempotency-Key` is not supported here: a retried upload is a new upload, and the unused one expires.
         */
        post: {
            parameters: {
                query?: {
                    /** @description The file name to show and download as (sanitised, at most 256 characters). Default: `upload` with an extension for the detected type. */
                    name?: string;
                    /** @description API keys only: upload on behalf of this user, who can then attach it in their own sends. Default: the upload belongs to the backend. */
                    userId?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description The file's bytes. */
            requestBody: {
                content: {
                    "application/octet-stream": string;
                };
            };
            responses: {
                /** @description The upload, stored. */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Upload"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: send `Authorization: Bearer <user token>` or `Bearer <API key>`. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the file is larger than UPLOAD_MAX_BYTES. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an upload, with fresh links
         * @description With the **user token**: the user's own uploads, and uploads attached to messages of conversations the user is a member of. With an API key (`read`): any upload.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The upload. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Upload"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: send `Authorization: Bearer <user token>` or `Bearer <API key>`. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/{id}/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download an upload (signed link)
         * @description **No credentials**: the link's signature is the capability, until its expiry. The links come in attachments and in the upload routes' answers. Served with `X-Content-Type-Options: nosniff` and a sandboxing CSP; `Content-Type` is the detected type for pictures (not SVG), PDF, audio, video and plain text (UTF-8), and `application/octet-stream` for anything else; pictures are `inline`, everything else an `attachment` download. Supports a single `Range` (206).
         */
        get: {
            parameters: {
                query: {
                    /** @description Expiry of the link, unix seconds (part of the signed link). */
                    exp: string;
                    /** @description The link's signature (part of the signed link). */
                    sig: string;
                    /** @description Which variant: `original` (default), `thumbnail`, or `mms`. */
                    v?: "original" | "thumbnail" | "mms";
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The file. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "*/*": string;
                    };
                };
                /** @description The requested byte range. */
                206: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "*/*": string;
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the link's signature is wrong, or the link expired; get a fresh link (read the message again, or `GET /v1/uploads/{id}`). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such upload (expired, or removed with its message). */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the `Range` lies outside the file. */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create or update a user
         * @description Idempotent: answers 200 with the stored user whether it was created or updated. Fields left out keep their stored value.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["UserUpsert"];
                };
            };
            responses: {
                /** @description The user as stored. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["User"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a user */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The user. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["User"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{id}/mutes/{conversationId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Mute a conversation for a user
         * @description No offline notification of the conversation reaches the user while muted; what is scheduled is cancelled.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    conversationId: string;
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * Format: date-time
                         * @description Muted until then; absent: until unmuted.
                         * @example 2025-01-31T12:00:00.000Z
                         */
                        until?: string;
                    };
                };
            };
            responses: {
                /** @description The mute. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Mute"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        post?: never;
        /** Unmute a conversation for a user */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    conversationId: string;
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Unmuted (also when it was not muted). */
                204: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{id}/notification-preferences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's notification preferences */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The preferences (every channel on until set). */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["NotificationPreferences"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Change a user's notification preferences
         * @description Turning a channel off cancels its scheduled notifications.
         */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["NotificationPreferencesPatch"];
                };
            };
            responses: {
                /** @description The preferences after the change. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["NotificationPreferences"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/v1/users/{id}/sms-consent": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's SMS consent and its ledger */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The consent state of the user's number and every recorded change. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SmsConsent"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Record SMS consent
         * @description Records that the user agreed to texts at their current phone number (or withdrew). No SMS is sent without consent; a STOP texted later withdraws it, START gives it back. Every change is kept in the ledger.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["SmsConsentInput"];
                };
            };
            responses: {
                /** @description The consent after the change. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SmsConsent"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List webhook endpoints */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Every endpoint, oldest first; secrets never. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookEndpointList"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Register a webhook endpoint
         * @description Events of the subscribed types are POSTed to `url`, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The answer carries the signing secret; `GET /v1/webhooks/{id}/secret` shows it again.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["WebhookCreate"];
                };
            };
            responses: {
                /** @description The endpoint with its signing secret. */
                201: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookEndpointCreated"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a webhook endpoint */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The endpoint. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookEndpoint"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Delete a webhook endpoint
         * @description Its pending deliveries and delivery log go with it.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted. */
                204: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Change a webhook endpoint
         * @description Change the URL, event types or description, disable it, or re-enable one that was disabled.
         */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["WebhookUpdate"];
                };
            };
            responses: {
                /** @description The endpoint after the change. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookEndpoint"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/v1/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a webhook endpoint's delivery log
         * @description One delivery per event sent (or to be sent), newest first, each with its attempts: time, status code, duration, error and next attempt.
         */
        get: {
            parameters: {
                query?: {
                    /** @description A delivery id: only older deliveries (pass the last id of the previous page). */
                    before?: string;
                    /** @description Page size, 1 to 100 (default 50). */
                    limit?: number;
                    /** @description Only deliveries in this state. */
                    status?: "pending" | "succeeded" | "failed";
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of deliveries. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookDeliveryPage"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/deliveries/{deliveryId}/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replay one delivery
         * @description Sends the delivery's event again as a new delivery, with the same `webhook-id`. The endpoint must be enabled.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    deliveryId: string;
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The new delivery, queued. */
                202: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookDelivery"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `conflict`: the request contradicts stored state (for example a taken id). */
                409: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replay a time range
         * @description Sends again every recorded event of the types the endpoint subscribes to that happened in `[since, until)`, as new deliveries with their original `webhook-id`s. Events are kept for WEBHOOK_RETENTION_DAYS (default 30). The endpoint must be enabled.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["WebhookReplay"];
                };
            };
            responses: {
                /** @description How many deliveries were queued. */
                202: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookReplayResult"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `conflict`: the request contradicts stored state (for example a taken id). */
                409: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate a webhook endpoint's signing secret
         * @description Generates a new secret. For WEBHOOK_SECRET_GRACE_HOURS (default 24) requests carry two signatures, one per secret, so the receiver can switch to the new one without losing a request.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The new secret. */
                200: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookSecret"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a webhook endpoint's signing secret */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The current secret. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookSecret"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/widget-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List widget keys
         * @description Revoked keys included; identity secrets never.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Every key. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            widgetKeys: components["schemas"]["WidgetKey"][];
                        };
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Create a widget key
         * @description The key itself is public (it goes in the page); the identity secret is for your backend only.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Makes the request safe to retry: the first response (2xx, or a 4xx other than 408 and 429) is stored for 24 h and replayed, with `Idempotent-Replayed: true`, to a request with the same key, method, path and body. The same key with another request, or while the first one still runs, answers 409 `conflict`. Keys are per API key; use a fresh one (a UUID) per operation. */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["WidgetKeyCreate"];
                };
            };
            responses: {
                /** @description The key with its identity secret. */
                201: {
                    headers: {
                        /** @description `true` when this is the stored response of an earlier request with the same `Idempotency-Key`. */
                        "Idempotent-Replayed"?: "true";
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WidgetKeyWithSecret"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/widget-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a widget key with its identity secret */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The key. */
                200: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WidgetKeyWithSecret"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Revoke a widget key
         * @description No new sessions start with it; visitor tokens already issued run until they expire.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked. */
                204: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        /** @description Requests allowed per 10 s for this API key. */
                        "RateLimit-Limit"?: number;
                        /** @description Requests left in the current window. */
                        "RateLimit-Remaining"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/widget/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a visitor session
         * @description Called by the embeddable widget from the visitor's browser: **no API key**. Checks the widget key and the page's `Origin` against the key's allowed origins, verifies `userHash` when a `userId` is claimed, creates the visitor's `support` conversation on first use, and mints a short-lived visitor token (WIDGET_TOKEN_TTL_SECONDS, default 1 h). A visitor token can only use the visitor's own conversation. Limited per client IP (RATE_LIMIT_WIDGET_SESSIONS per minute).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["WidgetSessionCreate"];
                };
            };
            responses: {
                /** @description The session. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WidgetSession"];
                    };
                };
                /** @description `invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON. */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unauthorized`: the API key is missing, unknown or revoked. */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member). */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `not_found`: no such resource. */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit. */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `invalid_argument`: the body must be `application/json`. */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`. */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `internal`: an unexpected error; the server logged it with the request id. */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly. */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        ApiKey: {
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            id: string;
            /**
             * Format: date-time
             * @description Updated at most once a minute.
             * @example 2025-01-31T12:00:00.000Z
             */
            lastUsedAt?: string;
            name: string;
            /** @description The key's first characters, to tell keys apart. */
            prefix: string;
            /**
             * Format: date-time
             * @description After a rotation: until when the replaced secret keeps working (API_KEY_ROTATION_GRACE_HOURS).
             * @example 2025-01-31T12:00:00.000Z
             */
            previousKeyExpiresAt?: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            revokedAt?: string;
            scopes: string[];
        };
        ApiKeyCreate: {
            /** @example billing backend */
            name: string;
            /** @description Default `["read", "write"]`. `admin` is needed for API keys and `POST /v1/tokens`, and implies the others. */
            scopes?: ("admin" | "read" | "write")[];
        };
        ApiKeyCreated: {
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            id: string;
            /** @description The secret. Shown in this response only; store it now. */
            key: string;
            /**
             * Format: date-time
             * @description Updated at most once a minute.
             * @example 2025-01-31T12:00:00.000Z
             */
            lastUsedAt?: string;
            name: string;
            /** @description The key's first characters, to tell keys apart. */
            prefix: string;
            /**
             * Format: date-time
             * @description After a rotation: until when the replaced secret keeps working (API_KEY_ROTATION_GRACE_HOURS).
             * @example 2025-01-31T12:00:00.000Z
             */
            previousKeyExpiresAt?: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            revokedAt?: string;
            scopes: string[];
        };
        ApiKeyList: {
            apiKeys: components["schemas"]["ApiKey"][];
        };
        /** @description A file of a message: a reference to a URL elsewhere (Switchboard keeps the metadata only), or a file uploaded to Switchboard. */
        Attachment: {
            height?: number;
            /** @description For an upload: detected from its bytes, never the client's claim. */
            mimeType?: string;
            name?: string;
            /** @description Bytes. */
            size?: number;
            thumbnail?: components["schemas"]["AttachmentThumbnail"];
            /**
             * @description The upload behind this attachment (`POST /v1/uploads`); absent for plain URL attachments.
             * @example up_0f3c9a6e2b7d4c1a8e5f0b2d6a9c3e71
             */
            uploadId?: string;
            /** @description A plain attachment: the URL the sender gave. An uploaded one: a signed download link that expires at `urlExpiresAt`; reading the message again (history, `GET /v1/uploads/{id}`) gives a fresh one. */
            url: string;
            /**
             * Format: date-time
             * @description Uploaded attachments: when `url` and `thumbnail.url` stop working.
             * @example 2025-01-31T12:00:00.000Z
             */
            urlExpiresAt?: string;
            /** @description Uploaded images: pixels, after EXIF orientation. */
            width?: number;
        };
        /** @description A preview of an uploaded image, at most 320 px on its longer side. */
        AttachmentThumbnail: {
            height: number;
            /** @example image/webp */
            mimeType: string;
            /** @description Signed download link of the thumbnail (WebP); expires at the attachment's `urlExpiresAt`. */
            url: string;
            width: number;
        };
        Conversation: {
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            id: string;
            /** @description The highest message revision of the conversation (0 before any change): the watermark for `GET …/changes`. */
            lastRev?: number;
            lastSeq: number;
            /** @description How many members the conversation has. */
            memberCount?: number;
            members: components["schemas"]["Member"][];
            /** @description Set when `members` lists only some members (to clients, above `CONVERSATION_MEMBER_LIST_LIMIT`); the HTTP API always lists all. */
            membersPartial?: boolean;
            title?: string;
            /** @enum {string} */
            type: "direct" | "group" | "support";
        };
        /** @description A `direct` conversation has exactly two members and is unique per pair: creating it again returns the existing one. */
        ConversationCreate: {
            /** @description Chosen by your backend; generated (`c_<uuid>`) when absent. */
            id?: string;
            memberIds: string[];
            title?: string;
            /** @enum {string} */
            type: "direct" | "group" | "support";
        };
        Delivery: {
            attempts: number;
            /** @enum {string} */
            cancelReason?: "read" | "online" | "opted_out" | "muted" | "no_destination" | "not_member";
            /**
             * @description `push`: Web Push; `fcm`: Android devices (Firebase Cloud Messaging); `apns`: iOS devices (Apple Push Notification service); `expo`: apps built with Expo (Expo's push service); `email`: an email; `sms`: a text.
             * @enum {string}
             */
            channel: "push" | "fcm" | "apns" | "expo" | "email" | "sms";
            collapsedInto?: string;
            conversationId: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            dueAt?: string;
            /** @enum {string} */
            encoding?: "GSM-7" | "UCS-2";
            /** @description The timeline, oldest first. */
            events: {
                /**
                 * Format: date-time
                 * @example 2025-01-31T12:00:00.000Z
                 */
                at: string;
                attempt?: number;
                detail?: string;
                /** @description The provider's error code (Twilio's numeric code). */
                errorCode?: string;
                /** @description The delivery's status after this entry, or an intermediate step: `queued`, `sending`, `accepted`, `retrying`, `deferred` (held for the recipient's quiet hours). */
                status: string;
                /** @description The push service's or SMS provider's HTTP status. */
                statusCode?: number;
            }[];
            /** @description SMS: our number; email: `EMAIL_FROM`. */
            from?: string;
            /** @example dlv_0m5x2k9ab… */
            id: string;
            lastMessageId: string;
            /** @description The newest message this notification covers. */
            lastSeq: number;
            /** @description SMS: the pictures sent with the text as an MMS; absent for a plain SMS. */
            mediaCount?: number;
            /** @description How many messages this notification covers. */
            messageCount: number;
            messageId: string;
            /** @description The SMS provider's message sid, or the email's `Message-ID`. */
            providerMessageId?: string;
            segments?: number;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            sentAt?: string;
            seq: number;
            /**
             * @description `scheduled`: waiting for `dueAt`; `sent`: accepted by the push service, the SMTP server or the SMS provider; `delivered`/`undelivered`: the SMS provider's receipt, or (`undelivered`) an email's bounce report; `failed`: a permanent error or retries used up; `cancelled`: no longer needed (`cancelReason`); `collapsed`: covered by the notification `collapsedInto` of the same burst.
             * @enum {string}
             */
            status: "scheduled" | "sent" | "delivered" | "undelivered" | "failed" | "cancelled" | "collapsed";
            /** @description SMS: the recipient's number; email: their address. */
            to?: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            updatedAt: string;
            userId: string;
        };
        Device: {
            appId?: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            /** @example dev_9f2c4e0b7a1d3c5e8f6a2b4c */
            id: string;
            /** @enum {string} */
            platform: "ios" | "android" | "expo";
            token: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            updatedAt: string;
        };
        DeviceCreate: {
            /**
             * @description The app's bundle id (iOS, sent as `apns-topic`; default APNS_TOPIC) or package name (Android).
             * @example com.example.chat
             */
            appId?: string;
            /**
             * @description `ios`: an APNs device token; `android`: an FCM registration token; `expo`: an Expo push token (`ExponentPushToken[…]`, needs EXPO_PUSH).
             * @enum {string}
             */
            platform: "ios" | "android" | "expo";
            /**
             * @description iOS: the APNs device token as hex (64 hex digits); Android: the FCM registration token from `getToken()`.
             * @example 740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad
             */
            token: string;
        };
        DeviceList: {
            devices: components["schemas"]["Device"][];
        };
        Error: {
            error: {
                /** @enum {string} */
                code: "unauthorized" | "forbidden" | "not_found" | "invalid_argument" | "payload_too_large" | "rate_limited" | "conflict" | "unavailable" | "internal";
                message: string;
                /** @description With `rate_limited`: how long to wait (also in `Retry-After`, seconds). */
                retryAfterMs?: number;
            };
        };
        Health: {
            /** @enum {string} */
            status: "ok";
        };
        MarkRead: {
            /** @description The highest seq read; beyond the conversation's last seq counts as its last. */
            seq: number;
            /**
             * @description The member who read.
             * @example alice
             */
            userId: string;
        };
        Member: {
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            joinedAt: string;
            lastReadSeq: number;
            role: string;
            userId: string;
        };
        MemberAdd: {
            /**
             * @description Default `member`.
             * @example member
             */
            role?: string;
            userId: string;
        };
        Message: {
            attachments?: components["schemas"]["Attachment"][];
            clientMessageId?: string;
            conversationId: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            /**
             * @description Present on a deleted message, whose `text` is empty and which has no attachments.
             * @enum {boolean}
             */
            deleted?: true;
            /**
             * Format: date-time
             * @description Time of the deletion; the message keeps its `id` and `seq`.
             * @example 2025-01-31T12:00:00.000Z
             */
            deletedAt?: string;
            /**
             * Format: date-time
             * @description Time of the latest edit; absent when never edited.
             * @example 2025-01-31T12:00:00.000Z
             */
            editedAt?: string;
            id: string;
            /**
             * Format: date-time
             * @description On a thread's parent: when its latest reply was written.
             * @example 2025-01-31T12:00:00.000Z
             */
            lastReplyAt?: string;
            /** @description One entry per emoji, in order of first use; absent without reactions. */
            reactions?: components["schemas"]["ReactionSummary"][];
            /** @description On a thread's parent: how many replies the thread has. */
            replyCount?: number;
            replyTo?: components["schemas"]["ReplyRef"];
            /** @description The conversation revision of this message's latest change (edit, deletion, reaction, a new thread reply); absent while it never changed. */
            rev?: number;
            senderId: string;
            /** @description 1, 2, 3, … per conversation, gapless and in commit order. */
            seq: number;
            text: string;
            /** @description On a thread reply: the id of the thread's parent message. Thread replies take the conversation's next `seq` like any message. */
            threadId?: string;
            /** @description On a thread reply: 1, 2, 3, … within the thread, gapless. */
            threadSeq?: number;
            /** @enum {string} */
            type: "text" | "system";
        };
        MessageChanges: {
            /** @description More changes follow; ask again with `afterRev=lastRev`. */
            hasMore: boolean;
            /** @description Every change up to this revision is covered: the next `afterRev`. */
            lastRev: number;
            /** @description Current versions of the messages changed after `afterRev`, oldest change first. */
            messages: components["schemas"]["Message"][];
        };
        MessageEdit: {
            /** @description Replaces the attachments (`[]` removes them); absent: they are kept. */
            attachments?: ({
                uploadId: string;
            } | {
                mimeType?: string;
                name?: string;
                size?: number;
                /** Format: uri */
                url: string;
            })[];
            /** @description May be empty when `attachments` is given and not empty. */
            text: string;
        };
        MessagePage: {
            /** @description More messages exist beyond the page in the direction of the query. */
            hasMore: boolean;
            /** @description Oldest first. */
            messages: components["schemas"]["Message"][];
        };
        MessageSend: {
            attachments?: ({
                uploadId: string;
            } | {
                mimeType?: string;
                name?: string;
                size?: number;
                /** Format: uri */
                url: string;
            })[];
            /** @description Makes the send idempotent: a retry with the same `(senderId, clientMessageId)` returns the original message (200) and stores nothing. */
            clientMessageId?: string;
            /** @description The id of a message of the same conversation this one answers; it is quoted as `replyTo` (400 if it is not there, 409 if it was deleted). */
            replyTo?: string;
            /** @description The member the message is sent as. */
            senderId: string;
            /** @description May be empty when the message has attachments. */
            text: string;
            /** @description Post into the thread under this top-level message of the conversation (400 if it is a thread reply itself or not there). */
            threadId?: string;
            /**
             * @description Default `text`. Only backends (API keys) can send `system` messages.
             * @enum {string}
             */
            type?: "text" | "system";
        };
        Mute: {
            conversationId: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            until?: string;
        };
        NotificationPreferences: {
            email: boolean;
            /** @description This user's wait before an email; absent: the ladder's (DELIVERY_LADDER, or EMAIL_DELAY_SECONDS). */
            emailDelayMs?: number;
            /** @description Native mobile push (FCM, APNs and Expo) on or off. */
            mobile?: boolean;
            push: boolean;
            /** @description Absent: no quiet hours. */
            quietHours?: {
                /**
                 * @description End of the window, HH:MM; earlier than `start` means the next morning.
                 * @example 07:00
                 */
                end: string;
                /**
                 * @description Start of the window, HH:MM in `timeZone`.
                 * @example 22:00
                 */
                start: string;
                /** @example Europe/Berlin */
                timeZone: string;
            };
            sms: boolean;
            /** @description This user's wait before an SMS; absent: the ladder's (DELIVERY_LADDER, or SMS_DELAY_SECONDS). */
            smsDelayMs?: number;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            updatedAt: string;
            userId: string;
        };
        NotificationPreferencesPatch: {
            /** @description Email on or off (email also needs an address on the user record). */
            email?: boolean;
            /** @description Wait before an email for this user, in ms; null returns to the server's default. */
            emailDelayMs?: number | null;
            /** @description Native mobile push (FCM for Android, APNs for iOS devices) on or off. */
            mobile?: boolean;
            /** @description Web Push on or off. */
            push?: boolean;
            /** @description Quiet hours; null removes them. */
            quietHours?: {
                /**
                 * @description End of the window, HH:MM; earlier than `start` means the next morning.
                 * @example 07:00
                 */
                end: string;
                /**
                 * @description Start of the window, HH:MM in `timeZone`.
                 * @example 22:00
                 */
                start: string;
                /** @example Europe/Berlin */
                timeZone: string;
            } | null;
            /** @description SMS on or off (SMS also needs a phone number with consent). */
            sms?: boolean;
            /** @description Wait before an SMS for this user, in ms; null returns to the server's default. */
            smsDelayMs?: number | null;
        };
        PushSubscription: {
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            endpoint: string;
            /** @example psub_9f2c4e0b7a1d3c5e8f6a2b4c */
            id: string;
        };
        /** @description The browser's `PushSubscription.toJSON()`, as it is. */
        PushSubscriptionCreate: {
            /**
             * @description The push service URL (https). It must resolve to public addresses only, unless the server sets PUSH_ALLOW_PRIVATE.
             * @example https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91bHqjZxM0VImWWqDRN7U0a3AycjUf4O-byuxb_wJsKRaKvV_iKw56s16ekq6FUqoCF7k2nICUpd8fHPxVTgqLunFeVeB9lLCQZyohyAztTH8ZQL9WCxKpA6dvTG_TUIhQUFq_n
             */
            endpoint: string;
            /** @description Epoch ms, or null: as the browser reports it. */
            expirationTime?: number | null;
            keys: {
                /** @description The 16-byte auth secret, base64url. */
                auth: string;
                /** @description The browser's P-256 public key (65 bytes), base64url. */
                p256dh: string;
            };
        };
        PushSubscriptionDelete: {
            /** @description The endpoint of the subscription to remove. */
            endpoint: string;
        };
        ReactionAdd: {
            /**
             * @description One emoji, or a `:shortcode:` of lowercase letters, digits, `_ + -`.
             * @example 👍
             */
            emoji: string;
            /**
             * @description The member who reacts.
             * @example alice
             */
            userId: string;
        };
        ReactionSummary: {
            /** @description How many users reacted with it; exact. */
            count: number;
            emoji: string;
            /** @description Who reacted, oldest first; at most 100. */
            userIds: string[];
        };
        Readiness: {
            /** @description Each dependency and `ok`, or what is wrong with it. */
            checks: {
                [key: string]: string;
            };
            /** @description Present with 503. */
            error?: {
                /** @enum {string} */
                code: "unauthorized" | "forbidden" | "not_found" | "invalid_argument" | "payload_too_large" | "rate_limited" | "conflict" | "unavailable" | "internal";
                message: string;
                /** @description With `rate_limited`: how long to wait (also in `Retry-After`, seconds). */
                retryAfterMs?: number;
            };
            /** @enum {string} */
            status: "ok" | "unavailable";
            /** @description The persistence driver: `sqlite` or `mongodb`. */
            store: string;
        };
        ReadPosition: {
            lastReadSeq: number;
        };
        /** @description What a reply quotes of the message it answers, resolved when read: edits and deletions of that message show. */
        ReplyRef: {
            /** @description How many attachments the quoted message has, when any. */
            attachmentCount?: number;
            /**
             * @description Present when the quoted message has been deleted since.
             * @enum {boolean}
             */
            deleted?: true;
            /** @description The start of the quoted message's current text, at most 140 characters; empty when it was deleted. */
            excerpt: string;
            messageId: string;
            senderId: string;
            seq: number;
        };
        SmsConsent: {
            ledger: {
                /** @enum {string} */
                action: "opt_in" | "opt_out" | "help";
                /**
                 * Format: date-time
                 * @example 2025-01-31T12:00:00.000Z
                 */
                at: string;
                keyword?: string;
                note?: string;
                phone: string;
                /** @enum {string} */
                source: "keyword" | "api" | "provider";
            }[];
            phone?: string;
            /**
             * @description Texts are sent only when `opted_in`.
             * @enum {string}
             */
            state: "opted_in" | "opted_out" | "unknown";
            userId: string;
        };
        SmsConsentInput: {
            /** @description true: the user agreed to texts (record where in `note`); false: withdrawn. */
            granted: boolean;
            /** @example signup form, checkbox 'Text me when I miss a message' */
            note?: string;
        };
        SupportTicket: {
            assigneeId?: string;
            conversationId: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            identified: boolean;
            lastMessage?: components["schemas"]["Message"];
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            lastMessageAt?: string;
            lastSeq: number;
            /** @description Display names of the visitor and the agents involved, by user id. */
            names: {
                [key: string]: string;
            };
            /** @enum {string} */
            status: "open" | "resolved";
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            updatedAt: string;
            /** @description The visitor's user id. */
            visitorId: string;
        };
        TokenCreate: {
            name?: string;
            /**
             * @description Default `user`.
             * @enum {string}
             */
            role?: "user" | "agent" | "visitor";
            /** @description Lifetime, default 3600; longer requests are capped at the server's TOKEN_MAX_TTL_SECONDS (default 86400). */
            ttlSeconds?: number;
            /** @description Becomes the token's `sub`. */
            userId: string;
        };
        /** @description An uploaded file: an attachment's metadata with fresh signed links, plus the upload's own facts. */
        Upload: {
            /** @description The message holding the upload. */
            attachedTo?: {
                conversationId: string;
                messageId: string;
            };
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description When the upload is deleted unless a message holds it by then (UPLOAD_UNATTACHED_TTL_SECONDS); absent once attached.
             * @example 2025-01-31T12:00:00.000Z
             */
            expiresAt?: string;
            height?: number;
            /**
             * @description Detected from the bytes, never taken from the request.
             * @example image/jpeg
             */
            mimeType: string;
            name: string;
            /** @description Hex SHA-256 of the stored bytes. */
            sha256: string;
            /** @description Bytes stored (for images: after re-encoding without metadata). */
            size: number;
            thumbnail?: components["schemas"]["AttachmentThumbnail"];
            /**
             * @description Attach it with `attachments: [{ uploadId }]` in `message:send` or `POST /v1/conversations/{id}/messages`.
             * @example up_0f3c9a6e2b7d4c1a8e5f0b2d6a9c3e71
             */
            uploadId: string;
            /** @description Signed download link of the stored file; expires at `urlExpiresAt`. */
            url: string;
            /**
             * Format: date-time
             * @description When `url` and `thumbnail.url` stop working.
             * @example 2025-01-31T12:00:00.000Z
             */
            urlExpiresAt: string;
            /** @description Images: pixels, after EXIF orientation. */
            width?: number;
        };
        User: {
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            email?: string;
            id: string;
            name?: string;
            phone?: string;
            /** @enum {string} */
            role: "user" | "agent" | "visitor";
        };
        UserToken: {
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            expiresAt: string;
            /** @description A user token (HS256 JWT) for the Socket.IO handshake. */
            token: string;
        };
        /** @description Creates the user, or updates the fields given (absent fields keep their value). */
        UserUpsert: {
            /**
             * Format: email
             * @description Where email notifications go (when the server sends email); replies by email from it are posted as this user.
             */
            email?: string;
            id: string;
            name?: string;
            phone?: string;
            /** @enum {string} */
            role?: "user" | "agent" | "visitor";
        };
        VapidPublicKey: {
            /**
             * @description The VAPID public key (uncompressed P-256 point, base64url): pass it as `applicationServerKey` to `pushManager.subscribe()`.
             * @example BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM
             */
            publicKey: string;
        };
        WebhookAttempt: {
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            at: string;
            durationMs: number;
            error?: string;
            /**
             * Format: date-time
             * @description When the next attempt is due; absent after the last one.
             * @example 2025-01-31T12:00:00.000Z
             */
            nextAttemptAt?: string;
            /** @description The receiver's answer; absent when none came. */
            statusCode?: number;
        };
        WebhookCreate: {
            description?: string;
            /** @description Default true. */
            enabled?: boolean;
            /**
             * @example [
             *       "message.created",
             *       "member.added"
             *     ]
             */
            eventTypes: ("message.created" | "message.updated" | "message.deleted" | "message.read" | "reaction.added" | "reaction.removed" | "conversation.created" | "member.added" | "member.removed" | "delivery.updated" | "*")[];
            /**
             * @description Where events are POSTed: http(s), no credentials. It must resolve to public addresses only, unless the server sets WEBHOOK_ALLOW_PRIVATE.
             * @example https://backend.example.com/switchboard/webhooks
             */
            url: string;
        };
        WebhookDelivery: {
            /** @description Oldest first. */
            attempts: components["schemas"]["WebhookAttempt"][];
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            endpointId: string;
            /** @description The `webhook-id` header: the same for every delivery and replay of one event. */
            eventId: string;
            eventType: string;
            id: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            nextAttemptAt?: string;
            /** @description The delivery this one replays. */
            replayOf?: string;
            /** @enum {string} */
            status: "pending" | "succeeded" | "failed";
        };
        WebhookDeliveryPage: {
            /** @description Newest first. */
            deliveries: components["schemas"]["WebhookDelivery"][];
            hasMore: boolean;
        };
        WebhookEndpoint: {
            /** @description Failed attempts since the last successful one. */
            consecutiveFailures: number;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            description?: string;
            /**
             * @description While disabled: `manual` (PATCH), `gone` (the receiver answered 410) or `failing` (every attempt failed for too long).
             * @enum {string}
             */
            disabledReason?: "manual" | "gone" | "failing";
            enabled: boolean;
            eventTypes: string[];
            id: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            updatedAt: string;
            url: string;
        };
        WebhookEndpointCreated: {
            /** @description Failed attempts since the last successful one. */
            consecutiveFailures: number;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            description?: string;
            /**
             * @description While disabled: `manual` (PATCH), `gone` (the receiver answered 410) or `failing` (every attempt failed for too long).
             * @enum {string}
             */
            disabledReason?: "manual" | "gone" | "failing";
            enabled: boolean;
            eventTypes: string[];
            id: string;
            /**
             * @description `whsec_` + base64 key (Standard Webhooks). Verify `webhook-signature` with it.
             * @example whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
             */
            secret: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            updatedAt: string;
            url: string;
        };
        WebhookEndpointList: {
            webhooks: components["schemas"]["WebhookEndpoint"][];
        };
        WebhookReplay: {
            /**
             * Format: date-time
             * @description Events that happened at or after this time…
             */
            since: string;
            /**
             * Format: date-time
             * @description …and before this one (default: now).
             */
            until?: string;
        };
        WebhookReplayResult: {
            enqueued: number;
        };
        WebhookSecret: {
            /**
             * Format: date-time
             * @description After a rotation: until then, requests are also signed with the previous secret.
             * @example 2025-01-31T12:00:00.000Z
             */
            previousSecretExpiresAt?: string;
            /**
             * @description `whsec_` + base64 key (Standard Webhooks). Verify `webhook-signature` with it.
             * @example whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
             */
            secret: string;
        };
        /** @description Fields left out keep their value. */
        WebhookUpdate: {
            /** @description `null` or an empty string removes it. */
            description?: string | null;
            /** @description `true` re-enables a disabled endpoint and clears its failure count. */
            enabled?: boolean;
            eventTypes?: ("message.created" | "message.updated" | "message.deleted" | "message.read" | "reaction.added" | "reaction.removed" | "conversation.created" | "member.added" | "member.removed" | "delivery.updated" | "*")[];
            /**
             * @description Where events are POSTed: http(s), no credentials. It must resolve to public addresses only, unless the server sets WEBHOOK_ALLOW_PRIVATE.
             * @example https://backend.example.com/switchboard/webhooks
             */
            url?: string;
        };
        WidgetKey: {
            allowedOrigins: string[];
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            /**
             * @description The public key, for `data-widget-key`.
             * @example wk_Xh3…
             */
            id: string;
            name: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            revokedAt?: string;
        };
        WidgetKeyCreate: {
            /**
             * @description Origins of the pages that may embed the widget, such as `https://shop.example.com`, or `*`. Default: none, i.e. only this server's own origin.
             * @example [
             *       "https://shop.example.com"
             *     ]
             */
            allowedOrigins?: string[];
            name: string;
        };
        WidgetKeyWithSecret: {
            allowedOrigins: string[];
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            createdAt: string;
            /**
             * @description The public key, for `data-widget-key`.
             * @example wk_Xh3…
             */
            id: string;
            /** @description Keep it on your backend: it signs `userHash` for identity verification. Never put it in a page. */
            identitySecret: string;
            name: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            revokedAt?: string;
        };
        WidgetSession: {
            /** @description How many agents are online now. */
            agentsOnline: number;
            conversationId: string;
            /**
             * Format: date-time
             * @example 2025-01-31T12:00:00.000Z
             */
            expiresAt: string;
            ticket: components["schemas"]["SupportTicket"];
            /** @description A visitor token (role `visitor`) for the Socket.IO handshake, limited to the visitor's own support conversation. */
            token: string;
            /** @description The visitor's user id: `visitor:<visitorId>`, or `customer:<userId>` when identified. */
            userId: string;
            /** @description The anonymous visitor id to keep for the next session (absent when identified). */
            visitorId?: string;
        };
        WidgetSessionCreate: {
            /** @description Display name shown to agents. */
            name?: string;
            /** @description Hex HMAC-SHA256 of `userId` with the widget key's `identitySecret`, computed by your backend. */
            userHash?: string;
            /**
             * @description Your own id of a logged-in customer. Refused (401) without a matching `userHash`.
             * @example cust-1042
             */
            userId?: string;
            /**
             * @description The anonymous visitor id a previous session returned (the widget keeps it in localStorage); absent: a new visitor.
             * @example v_3q2-7wHk0SdKa8qW1xYb0A
             */
            visitorId?: string;
            /**
             * @description The public widget key from the `<script data-widget-key>` tag.
             * @example wk_demo
             */
            widgetKey: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
