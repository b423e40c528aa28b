/**
 * The API's types, generated from its OpenAPI document (`/api/schema/`) by openapi-typescript:
 * do not edit; run `npm run api:types` after changing a route (api-types.test.ts fails until then).
 * The web client (public/api.js) types its calls with them through api-client.types.ts.
 */
export interface paths {
    "/api/health/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness and database check
         * @description The older combined probe; `live/` and `ready/` split it.
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
                /** @description Up, and the database answers */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "status": "ok",
                         *       "database": "sqlite"
                         *     }
                         */
                        "application/json": {
                            /** @enum {string} */
                            status: "ok";
                            /** @description `sqlite` or `postgres` */
                            database: string;
                        };
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The database does not answer (`database_unavailable`) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/health/live/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness: the process is up
         * @description Checks nothing else, so an outage of the database or Redis does not get every process restarted (that is `ready/`).
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
                /** @description The process answers */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "status": "ok"
                         *     }
                         */
                        "application/json": {
                            /** @enum {string} */
                            status: "ok";
                        };
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/health/ready/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness: database, Redis (when configured) and storage answer
         * @description Each part is checked (within 3 s): the database with `select 1`, Redis with PING, storage with a small write and delete. While the process shuts down (SIGTERM) it answers 503 with `shutting_down` among the failing parts, so a load balancer stops sending to it.
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
                /** @description Every part answers */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "status": "ok",
                         *       "checks": {
                         *         "database": "ok",
                         *         "redis": "not_configured",
                         *         "storage": "ok"
                         *       }
                         *     }
                         */
                        "application/json": {
                            /** @enum {string} */
                            status: "ok";
                            checks: {
                                /**
                                 * @description `not_configured`: Redis without REDIS_URL
                                 * @enum {string}
                                 */
                                database: "ok" | "failed" | "not_configured";
                                /**
                                 * @description `not_configured`: Redis without REDIS_URL
                                 * @enum {string}
                                 */
                                redis: "ok" | "failed" | "not_configured";
                                /**
                                 * @description `not_configured`: Redis without REDIS_URL
                                 * @enum {string}
                                 */
                                storage: "ok" | "failed" | "not_configured";
                            };
                        };
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A part does not answer, or the process is shutting down (`not_ready`; `details.failing` names them — `shutting_down` included —, `details.checks` has every part's status) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description The Prometheus text format (prom-client): request durations by route and status, media bytes served, upload bytes, conversions, the queue, WebSockets, event-loop lag and memory. With METRICS_TOKEN set it needs `Authorization: Bearer <METRICS_TOKEN>`.
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
                /** @description The metrics in the Prometheus text format (`text/plain; version=0.0.4`) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
                /** @description METRICS_TOKEN is set and the request does not carry it (`not_authenticated`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/auth/register/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an account
         * @description Creates a `user` account (`uploader` with UPLOADERS_BY_DEFAULT) and signs it in. `cookie: true` works as for login.
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
                    /**
                     * @example {
                     *       "username": "alice",
                     *       "email": "alice@example.com",
                     *       "password": "correct horse battery staple",
                     *       "cookie": true
                     *     }
                     */
                    "application/json": {
                        /** @description 3-150 letters, digits or @.+-_ (any script); unique ignoring case */
                        username: string;
                        /** @description unique; the domain is lower-cased */
                        email: string;
                        /** @description 8+ characters, not entirely numeric, not common, not close to the username/email */
                        password: string;
                        display_name?: string;
                        /** @description Also set the refresh token as an httpOnly SameSite=Strict cookie on /api/auth/ (plus a readable `vidflux_csrf` cookie); the body's `refresh` is then null. */
                        cookie?: boolean;
                    };
                };
            };
            responses: {
                /** @description Signed in: the tokens and the account */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "access": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
                         *       "refresh": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
                         *       "user": {
                         *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *         "username": "alice",
                         *         "display_name": "Alice",
                         *         "bio": "Travel videos",
                         *         "role": "uploader",
                         *         "avatar": {
                         *           "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                         *           "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                         *         },
                         *         "date_joined": "2026-01-02T03:04:05.000Z",
                         *         "email": "alice@example.com",
                         *         "is_active": true,
                         *         "last_login": "2026-01-03T08:00:00.000Z",
                         *         "quota": {
                         *           "used_bytes": 57000000,
                         *           "limit_bytes": 53687091200
                         *         },
                         *         "pending_email": null
                         *       }
                         *     }
                         */
                        "application/json": {
                            /** @description access JWT, for `Authorization: Bearer` */
                            access: string;
                            /** @description refresh JWT (null when it was set as a cookie) */
                            refresh: string | null;
                            /**
                             * @description The signed-in account
                             * @example {
                             *       "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                             *       "username": "alice",
                             *       "display_name": "Alice",
                             *       "bio": "Travel videos",
                             *       "role": "uploader",
                             *       "avatar": {
                             *         "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                             *         "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                             *       },
                             *       "date_joined": "2026-01-02T03:04:05.000Z",
                             *       "email": "alice@example.com",
                             *       "is_active": true,
                             *       "last_login": "2026-01-03T08:00:00.000Z",
                             *       "quota": {
                             *         "used_bytes": 57000000,
                             *         "limit_bytes": 53687091200
                             *       },
                             *       "pending_email": null
                             *     }
                             */
                            user: {
                                /** Format: uuid */
                                id: string;
                                username: string;
                                display_name: string;
                                bio: string;
                                /**
                                 * @description guest < user < uploader < moderator < admin
                                 * @enum {string}
                                 */
                                role: "guest" | "user" | "uploader" | "moderator" | "admin";
                                /** @description Avatar image URLs, or null without an avatar */
                                avatar: {
                                    /** @description 64x64 WebP */
                                    64: string;
                                    /** @description 256x256 WebP */
                                    256: string;
                                } | null;
                                /** Format: date-time */
                                date_joined: string;
                                email: string;
                                is_active: boolean;
                                /** Format: date-time */
                                last_login: string | null;
                                quota: {
                                    /** @description bytes of stored videos counted against the quota */
                                    used_bytes: number;
                                    /** @description USER_VIDEO_QUOTA */
                                    limit_bytes: number;
                                };
                                /** @description a new address waiting for its confirmation (POST /api/auth/email-change/confirm/); `email` changes once it is confirmed */
                                pending_email: string | null;
                            };
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Conflicts with the resource's current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too large: the body (`payload_too_large`) or a limit (details say which) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Unsupported media type */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/auth/login/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign in
         * @description Username (or an email address in `username`) or `email`, plus the password, gives `{access, refresh, user}`. With `"cookie": true` the refresh token is instead set as an httpOnly SameSite=Strict cookie scoped to /api/auth/ (the body's `refresh` is null) together with a readable `vidflux_csrf` cookie; refresh and logout then accept the cookie when the `X-CSRF-Token` header repeats `vidflux_csrf`.
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
                    "application/json": {
                        /** @description a username, or an email address */
                        username?: string;
                        email?: string;
                        password: string;
                        /** @description Also set the refresh token as an httpOnly SameSite=Strict cookie on /api/auth/ (plus a readable `vidflux_csrf` cookie); the body's `refresh` is then null. */
                        cookie?: boolean;
                    };
                };
            };
            responses: {
                /** @description Signed in: the tokens and the account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "access": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
                         *       "refresh": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
                         *       "user": {
                         *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *         "username": "alice",
                         *         "display_name": "Alice",
                         *         "bio": "Travel videos",
                         *         "role": "uploader",
                         *         "avatar": {
                         *           "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                         *           "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                         *         },
                         *         "date_joined": "2026-01-02T03:04:05.000Z",
                         *         "email": "alice@example.com",
                         *         "is_active": true,
                         *         "last_login": "2026-01-03T08:00:00.000Z",
                         *         "quota": {
                         *           "used_bytes": 57000000,
                         *           "limit_bytes": 53687091200
                         *         },
                         *         "pending_email": null
                         *       }
                         *     }
                         */
                        "application/json": {
                            /** @description access JWT, for `Authorization: Bearer` */
                            access: string;
                            /** @description refresh JWT (null when it was set as a cookie) */
                            refresh: string | null;
                            /**
                             * @description The signed-in account
                             * @example {
                             *       "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                             *       "username": "alice",
                             *       "display_name": "Alice",
                             *       "bio": "Travel videos",
                             *       "role": "uploader",
                             *       "avatar": {
                             *         "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                             *         "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                             *       },
                             *       "date_joined": "2026-01-02T03:04:05.000Z",
                             *       "email": "alice@example.com",
                             *       "is_active": true,
                             *       "last_login": "2026-01-03T08:00:00.000Z",
                             *       "quota": {
                             *         "used_bytes": 57000000,
                             *         "limit_bytes": 53687091200
                             *       },
                             *       "pending_email": null
                             *     }
                             */
                            user: {
                                /** Format: uuid */
                                id: string;
                                username: string;
                                display_name: string;
                                bio: string;
                                /**
                                 * @description guest < user < uploader < moderator < admin
                                 * @enum {string}
                                 */
                                role: "guest" | "user" | "uploader" | "moderator" | "admin";
                                /** @description Avatar image URLs, or null without an avatar */
                                avatar: {
                                    /** @description 64x64 WebP */
                                    64: string;
                                    /** @description 256x256 WebP */
                                    256: string;
                                } | null;
                                /** Format: date-time */
                                date_joined: string;
                                email: string;
                                is_active: boolean;
                                /** Format: date-time */
                                last_login: string | null;
                                quota: {
                                    /** @description bytes of stored videos counted against the quota */
                                    used_bytes: number;
                                    /** @description USER_VIDEO_QUOTA */
                                    limit_bytes: number;
                                };
                                /** @description a new address waiting for its confirmation (POST /api/auth/email-change/confirm/); `email` changes once it is confirmed */
                                pending_email: string | null;
                            };
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too large: the body (`payload_too_large`) or a limit (details say which) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Unsupported media type */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/auth/token/refresh/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate a refresh token
         * @description Returns a new access token and a new refresh token; the presented one is revoked. Presenting an already rotated token revokes the whole session (401 `token_reused`). Without `refresh` in the body the refresh cookie is used, and then `X-CSRF-Token` must equal the `vidflux_csrf` cookie (403 `csrf_failed`).
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
                    "application/json": {
                        /** @description omit to use the refresh cookie (then X-CSRF-Token is required) */
                        refresh?: string;
                    };
                };
            };
            responses: {
                /** @description A fresh token pair */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "access": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
                         *       "refresh": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"
                         *     }
                         */
                        "application/json": {
                            access: string;
                            /** @description the new refresh JWT (null when it was set as a cookie) */
                            refresh: string | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Signed in but not allowed (`permission_denied`, or a code naming the rule) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/auth/logout/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign out
         * @description Revokes the session of the refresh token (body, or cookie + `X-CSRF-Token`) and clears the cookies.
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
                    "application/json": {
                        /** @description omit to use the refresh cookie (then X-CSRF-Token is required) */
                        refresh?: string;
                    };
                };
            };
            responses: {
                /** @description Signed out */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Signed in but not allowed (`permission_denied`, or a code naming the rule) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/auth/password-reset/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Email a password reset token
         * @description Always 202, whether or not an account has this email (no account enumeration). The token is valid once, for PASSWORD_RESET_TTL seconds.
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
                    /**
                     * @example {
                     *       "email": "alice@example.com"
                     *     }
                     */
                    "application/json": {
                        email: string;
                    };
                };
            };
            responses: {
                /** @description Accepted */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "detail": "If an account uses this email address, a password reset token has been sent to it."
                         *     }
                         */
                        "application/json": {
                            detail: string;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/auth/password-reset/confirm/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Set a new password with a reset token
         * @description Consumes the token, sets the password and ends every session of the account.
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
                    /**
                     * @example {
                     *       "token": "q9X2vR7tLk0bN4mW8sYc1A",
                     *       "new_password": "another long passphrase"
                     *     }
                     */
                    "application/json": {
                        token: string;
                        /** @description 8+ characters, not entirely numeric, not common, not close to the username/email */
                        new_password: string;
                    };
                };
            };
            responses: {
                /** @description Password changed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/auth/email-change/confirm/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm a new email address
         * @description The token emailed to the new address by `PATCH /api/users/me/ {email, old_password}`. Single use, valid EMAIL_CHANGE_TTL seconds; no sign-in needed (the token is the proof). Changes the address, tells the old one, and ends every session of the account but the one that asked (their access tokens are refused at once, their WebSocket/SSE connections closed).
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
                    /**
                     * @example {
                     *       "token": "Zp4Qw8Rt2Yx6Nb0Vc3Lm7K"
                     *     }
                     */
                    "application/json": {
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Email changed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Conflicts with the resource's current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/users/me/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The signed-in account */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The signed-in account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *       "username": "alice",
                         *       "display_name": "Alice",
                         *       "bio": "Travel videos",
                         *       "role": "uploader",
                         *       "avatar": {
                         *         "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                         *         "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                         *       },
                         *       "date_joined": "2026-01-02T03:04:05.000Z",
                         *       "email": "alice@example.com",
                         *       "is_active": true,
                         *       "last_login": "2026-01-03T08:00:00.000Z",
                         *       "quota": {
                         *         "used_bytes": 57000000,
                         *         "limit_bytes": 53687091200
                         *       },
                         *       "pending_email": null
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            username: string;
                            display_name: string;
                            bio: string;
                            /**
                             * @description guest < user < uploader < moderator < admin
                             * @enum {string}
                             */
                            role: "guest" | "user" | "uploader" | "moderator" | "admin";
                            /** @description Avatar image URLs, or null without an avatar */
                            avatar: {
                                /** @description 64x64 WebP */
                                64: string;
                                /** @description 256x256 WebP */
                                256: string;
                            } | null;
                            /** Format: date-time */
                            date_joined: string;
                            email: string;
                            is_active: boolean;
                            /** Format: date-time */
                            last_login: string | null;
                            quota: {
                                /** @description bytes of stored videos counted against the quota */
                                used_bytes: number;
                                /** @description USER_VIDEO_QUOTA */
                                limit_bytes: number;
                            };
                            /** @description a new address waiting for its confirmation (POST /api/auth/email-change/confirm/); `email` changes once it is confirmed */
                            pending_email: string | null;
                        };
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Delete the signed-in account
         * @description Requires the password. The account is deactivated and every token revoked at once; then its avatar, videos and files are removed and the account deleted. The last active admin cannot delete their account (409 `last_admin`).
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
                    /**
                     * @example {
                     *       "password": "correct horse battery staple"
                     *     }
                     */
                    "application/json": {
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Conflicts with the resource's current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Edit the signed-in account
         * @description username, email, display_name, bio. A new `email` needs the current password in `old_password` (400 `password_required`, `wrong_password`) and is not applied yet: a single-use token (EMAIL_CHANGE_TTL) is emailed to the new address and the old address is told; the answer shows it as `pending_email` until `POST /api/auth/email-change/confirm/` receives the token, which changes the address and ends every other session. Role and activation are changed by admins (PATCH /api/users/{id}/).
         */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description Only these fields; role and is_active are changed by admins. */
            requestBody: {
                content: {
                    "application/json": {
                        /** @description 3-150 letters, digits or @.+-_ (any script); unique ignoring case */
                        username?: string;
                        /** @description a new address: needs `old_password`, and changes once the new address confirms it */
                        email?: string;
                        /** @description the current password; required to change `email` */
                        old_password?: string;
                        display_name?: string;
                        bio?: string;
                    };
                };
            };
            responses: {
                /** @description The signed-in account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *       "username": "alice",
                         *       "display_name": "Alice",
                         *       "bio": "Travel videos",
                         *       "role": "uploader",
                         *       "avatar": {
                         *         "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                         *         "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                         *       },
                         *       "date_joined": "2026-01-02T03:04:05.000Z",
                         *       "email": "alice@example.com",
                         *       "is_active": true,
                         *       "last_login": "2026-01-03T08:00:00.000Z",
                         *       "quota": {
                         *         "used_bytes": 57000000,
                         *         "limit_bytes": 53687091200
                         *       },
                         *       "pending_email": null
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            username: string;
                            display_name: string;
                            bio: string;
                            /**
                             * @description guest < user < uploader < moderator < admin
                             * @enum {string}
                             */
                            role: "guest" | "user" | "uploader" | "moderator" | "admin";
                            /** @description Avatar image URLs, or null without an avatar */
                            avatar: {
                                /** @description 64x64 WebP */
                                64: string;
                                /** @description 256x256 WebP */
                                256: string;
                            } | null;
                            /** Format: date-time */
                            date_joined: string;
                            email: string;
                            is_active: boolean;
                            /** Format: date-time */
                            last_login: string | null;
                            quota: {
                                /** @description bytes of stored videos counted against the quota */
                                used_bytes: number;
                                /** @description USER_VIDEO_QUOTA */
                                limit_bytes: number;
                            };
                            /** @description a new address waiting for its confirmation (POST /api/auth/email-change/confirm/); `email` changes once it is confirmed */
                            pending_email: string | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Signed in but not allowed (`permission_denied`, or a code naming the rule) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Conflicts with the resource's current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/users/me/password/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the password
         * @description Checks the old password, applies the password rules, ends every session (all refresh and access tokens) and returns a fresh token pair. With `"cookie": true` (a browser session) the new refresh token is instead set as the httpOnly refresh cookie, with a new `vidflux_csrf` cookie, as at login: the body's `refresh` is null and the browser stays signed in without signing in again.
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
                    "application/json": {
                        old_password: string;
                        /** @description 8+ characters, not entirely numeric, not common, not close to the username/email */
                        new_password: string;
                        /** @description Also set the refresh token as an httpOnly SameSite=Strict cookie on /api/auth/ (plus a readable `vidflux_csrf` cookie); the body's `refresh` is then null. */
                        cookie?: boolean;
                    };
                };
            };
            responses: {
                /** @description A fresh token pair */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "access": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
                         *       "refresh": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI5YTFiIiwidHlwIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"
                         *     }
                         */
                        "application/json": {
                            access: string;
                            /** @description the new refresh JWT (null when it was set as a cookie) */
                            refresh: string | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests: retry after `Retry-After` (`details.retry_after_s`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/users/me/avatar/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Upload an avatar
         * @description multipart/form-data with the image in the field `file` (max 5 MB). JPEG, PNG, GIF, WebP or AVIF, recognised by content, not name; re-encoded to 256x256 and 64x64 WebP. Others: 415; larger: 413.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "multipart/form-data": {
                        /**
                         * Format: binary
                         * @description the image
                         */
                        file: string;
                    };
                };
            };
            responses: {
                /** @description The signed-in account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *       "username": "alice",
                         *       "display_name": "Alice",
                         *       "bio": "Travel videos",
                         *       "role": "uploader",
                         *       "avatar": {
                         *         "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                         *         "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                         *       },
                         *       "date_joined": "2026-01-02T03:04:05.000Z",
                         *       "email": "alice@example.com",
                         *       "is_active": true,
                         *       "last_login": "2026-01-03T08:00:00.000Z",
                         *       "quota": {
                         *         "used_bytes": 57000000,
                         *         "limit_bytes": 53687091200
                         *       },
                         *       "pending_email": null
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            username: string;
                            display_name: string;
                            bio: string;
                            /**
                             * @description guest < user < uploader < moderator < admin
                             * @enum {string}
                             */
                            role: "guest" | "user" | "uploader" | "moderator" | "admin";
                            /** @description Avatar image URLs, or null without an avatar */
                            avatar: {
                                /** @description 64x64 WebP */
                                64: string;
                                /** @description 256x256 WebP */
                                256: string;
                            } | null;
                            /** Format: date-time */
                            date_joined: string;
                            email: string;
                            is_active: boolean;
                            /** Format: date-time */
                            last_login: string | null;
                            quota: {
                                /** @description bytes of stored videos counted against the quota */
                                used_bytes: number;
                                /** @description USER_VIDEO_QUOTA */
                                limit_bytes: number;
                            };
                            /** @description a new address waiting for its confirmation (POST /api/auth/email-change/confirm/); `email` changes once it is confirmed */
                            pending_email: string | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Signed in but not allowed (`permission_denied`, or a code naming the rule) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too large: the body (`payload_too_large`) or a limit (details say which) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Unsupported media type */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        post?: never;
        /** Remove the avatar */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed (or there was none) */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Signed in but not allowed (`permission_denied`, or a code naming the rule) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{id}/avatar/{size}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An avatar image
         * @description WebP. With the `?v=` of the user's `avatar` URLs the response is cacheable forever; it changes with every upload.
         */
        get: {
            parameters: {
                query?: {
                    /** @description version, for immutable caching */
                    v?: string;
                };
                header?: never;
                path: {
                    id: string;
                    /** @description 256 or 64 */
                    size: "256" | "64";
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The image */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "image/webp": string;
                    };
                };
                /** @description Not modified */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such resource, or not one the caller may see */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/users/{id}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A public profile */
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
                /** @description A public profile */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *       "username": "alice",
                         *       "display_name": "Alice",
                         *       "bio": "Travel videos",
                         *       "role": "uploader",
                         *       "avatar": {
                         *         "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                         *         "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                         *       },
                         *       "date_joined": "2026-01-02T03:04:05.000Z"
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            username: string;
                            display_name: string;
                            bio: string;
                            /**
                             * @description guest < user < uploader < moderator < admin
                             * @enum {string}
                             */
                            role: "guest" | "user" | "uploader" | "moderator" | "admin";
                            /** @description Avatar image URLs, or null without an avatar */
                            avatar: {
                                /** @description 64x64 WebP */
                                64: string;
                                /** @description 256x256 WebP */
                                256: string;
                            } | null;
                            /** Format: date-time */
                            date_joined: string;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such resource, or not one the caller may see */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
         * Change an account's role or activation (admins)
         * @description Nobody raises their own role; the last active admin cannot be demoted or deactivated (409 `last_admin`). Deactivation revokes every token of the account.
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
                    "application/json": {
                        /**
                         * @description guest < user < uploader < moderator < admin
                         * @enum {string}
                         */
                        role?: "guest" | "user" | "uploader" | "moderator" | "admin";
                        is_active?: boolean;
                    };
                };
            };
            responses: {
                /** @description An account, as admins see it */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *       "username": "alice",
                         *       "display_name": "Alice",
                         *       "bio": "Travel videos",
                         *       "role": "uploader",
                         *       "avatar": {
                         *         "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                         *         "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                         *       },
                         *       "date_joined": "2026-01-02T03:04:05.000Z",
                         *       "email": "alice@example.com",
                         *       "is_active": true,
                         *       "last_login": "2026-01-03T08:00:00.000Z"
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            username: string;
                            display_name: string;
                            bio: string;
                            /**
                             * @description guest < user < uploader < moderator < admin
                             * @enum {string}
                             */
                            role: "guest" | "user" | "uploader" | "moderator" | "admin";
                            /** @description Avatar image URLs, or null without an avatar */
                            avatar: {
                                /** @description 64x64 WebP */
                                64: string;
                                /** @description 256x256 WebP */
                                256: string;
                            } | null;
                            /** Format: date-time */
                            date_joined: string;
                            email: string;
                            is_active: boolean;
                            /** Format: date-time */
                            last_login: string | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Signed in but not allowed (`permission_denied`, or a code naming the rule) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such resource, or not one the caller may see */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Conflicts with the resource's current state */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/users/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List and search accounts (admins)
         * @description Newest first. `?search=` matches the username, email or display name; `?limit=` and `?cursor=` paginate.
         */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                    /** @description substring of the username, email or display name (case-insensitive) */
                    search?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of accounts */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "results": [
                         *         {
                         *           "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *           "username": "alice",
                         *           "display_name": "Alice",
                         *           "bio": "Travel videos",
                         *           "role": "uploader",
                         *           "avatar": {
                         *             "64": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/64/?v=k3j2",
                         *             "256": "/api/users/9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d/avatar/256/?v=k3j2"
                         *           },
                         *           "date_joined": "2026-01-02T03:04:05.000Z",
                         *           "email": "alice@example.com",
                         *           "is_active": true,
                         *           "last_login": "2026-01-03T08:00:00.000Z"
                         *         }
                         *       ],
                         *       "next": "https://vidflux.example/api/users/?cursor=eyJrZXkiOlsiMjAyNi0wMS0wMlQwMzowNDowNS4wMDBaIl0sImRpciI6Im4ifQ",
                         *       "previous": null
                         *     }
                         */
                        "application/json": {
                            results: {
                                /** Format: uuid */
                                id: string;
                                username: string;
                                display_name: string;
                                bio: string;
                                /**
                                 * @description guest < user < uploader < moderator < admin
                                 * @enum {string}
                                 */
                                role: "guest" | "user" | "uploader" | "moderator" | "admin";
                                /** @description Avatar image URLs, or null without an avatar */
                                avatar: {
                                    /** @description 64x64 WebP */
                                    64: string;
                                    /** @description 256x256 WebP */
                                    256: string;
                                } | null;
                                /** Format: date-time */
                                date_joined: string;
                                email: string;
                                is_active: boolean;
                                /** Format: date-time */
                                last_login: string | null;
                            }[];
                            /** @description the next page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            next: string | null;
                            /** @description the previous page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            previous: string | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Signed in but not allowed (`permission_denied`, or a code naming the rule) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List videos
         * @description Public playable videos, plus your own (any status) when signed in, and everything for moderators and admins. `?search=` matches title and description; `?ordering=` is `-created` (default), `created`, `-views` or `-likes`.
         */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                    search?: string;
                    owner?: string;
                    ordering?: "-created" | "created" | "-views" | "-likes";
                    status?: "uploading" | "validating" | "queued" | "processing" | "ready" | "failed";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of videos */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "results": [
                         *         {
                         *           "id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "title": "My trip",
                         *           "poster": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/poster.jpg",
                         *           "duration": 62.5,
                         *           "views": 42,
                         *           "likes": 12,
                         *           "dislikes": 1,
                         *           "owner": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "alice",
                         *             "display_name": "Alice"
                         *           },
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "status": "ready",
                         *           "visibility": "public"
                         *         }
                         *       ],
                         *       "next": "https://vidflux.example/api/videos/?cursor=eyJrZXkiOlsiMjAyNi0wMS0wMlQwMzowNDowNS4wMDBaIl0sImRpciI6Im4ifQ",
                         *       "previous": null
                         *     }
                         */
                        "application/json": {
                            results: {
                                /** Format: uuid */
                                id: string;
                                title: string;
                                poster: string | null;
                                duration: number | null;
                                views: number;
                                likes: number;
                                dislikes: number;
                                owner: {
                                    id: string;
                                    username: string;
                                    display_name: string;
                                };
                                /** Format: date-time */
                                created: string;
                                /** @enum {string} */
                                status: "uploading" | "validating" | "queued" | "processing" | "ready" | "failed";
                                /** @enum {string} */
                                visibility: "public" | "unlisted" | "private";
                            }[];
                            /** @description the next page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            next: string | null;
                            /** @description the previous page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            previous: string | null;
                        };
                    };
                };
                /** @description Invalid query (`validation_error`, `invalid_cursor`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/{id}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Video detail
         * @description Private videos answer their owner, moderators and admins only, with a playback token in every media URL.
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
                /** @description A video */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["VideoDetail"];
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete a video and every file of it (cancels a running conversion) */
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
                /** @description Deleted, with its files */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the owner, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Edit a video (owner, moderators, admins)
         * @description Any of title, description, visibility, language, poster_candidate (a generated poster), comments_enabled. Answers the updated video.
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
                    "application/json": {
                        title?: string;
                        description?: string;
                        /** @enum {string} */
                        visibility?: "public" | "unlisted" | "private";
                        language?: string | null;
                        poster_candidate?: number;
                        /** @description false: existing comments stay, read-only; new ones get 403 comments_disabled */
                        comments_enabled?: boolean;
                    };
                };
            };
            responses: {
                /** @description A video */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["VideoDetail"];
                    };
                };
                /** @description Invalid fields (`validation_error`, `title_blank`, `invalid_poster_candidate`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the owner, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/videos/{id}/info/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Video information (size, duration, languages, codecs, renditions) */
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
                /** @description Size, duration, languages, codecs and renditions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "size_bytes": 31457280,
                         *       "size": "30.0 MB",
                         *       "duration_seconds": 62.5,
                         *       "duration": "1:02",
                         *       "languages": [
                         *         "en",
                         *         "fr"
                         *       ],
                         *       "subtitle_languages": [
                         *         "en"
                         *       ],
                         *       "has_subtitles": true,
                         *       "container": "mp4",
                         *       "video_codec": "h264",
                         *       "width": 1920,
                         *       "height": 1080,
                         *       "fps": 30,
                         *       "bitrate": 4026531,
                         *       "renditions": [
                         *         {
                         *           "quality": "480p",
                         *           "width": 854,
                         *           "height": 480,
                         *           "bitrate": 1200000,
                         *           "size_bytes": 9437184,
                         *           "size": "9.0 MB"
                         *         },
                         *         {
                         *           "quality": "1080p",
                         *           "width": 1920,
                         *           "height": 1080,
                         *           "bitrate": 5000000,
                         *           "size_bytes": 39321600,
                         *           "size": "37.5 MB"
                         *         }
                         *       ]
                         *     }
                         */
                        "application/json": {
                            size_bytes: number;
                            size: string;
                            duration_seconds: number | null;
                            duration: string | null;
                            languages: string[];
                            subtitle_languages: string[];
                            has_subtitles: boolean;
                            container: string | null;
                            video_codec: string | null;
                            width: number | null;
                            height: number | null;
                            fps: number | null;
                            bitrate: number | null;
                            renditions: {
                                quality: string;
                                width: number;
                                height: number;
                                bitrate: number;
                                size_bytes: number;
                                size: string;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/{id}/reprocess/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Re-run the conversion from the kept original (admins)
         * @description Answers the video, queued again. Counts against the owner's MAX_QUEUED_CONVERSIONS like a new upload.
         */
        post: {
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
                /** @description Queued for conversion again */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["VideoDetail"];
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller's role lacks the right (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No original to convert (`original_missing`: KEEP_ORIGINALS=false), or the upload is not finished (`not_ready`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The owner has MAX_QUEUED_CONVERSIONS conversions in flight (`conversion_queue_full`, `{queued, limit, retry_after_s}`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/{id}/subtitles/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Subtitle tracks: from the source and uploaded
         * @description An uploaded track replaces the source track of its language. `url` is the WebVTT file (with the playback token for private videos).
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
                /** @description The video's subtitle tracks */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example [
                         *       {
                         *         "lang": "en",
                         *         "name": "English",
                         *         "url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/subs_en/index.vtt",
                         *         "source": "upload"
                         *       }
                         *     ]
                         */
                        "application/json": {
                            /** @description BCP 47 short form (`fr`) */
                            lang: string;
                            /** @description the language's own name */
                            name: string;
                            /** @description the WebVTT file (with the playback token for private videos) */
                            url: string;
                            /** @description from the uploaded file's streams, or uploaded since */
                            source: "source" | "upload";
                        }[];
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/{id}/subtitles/{lang}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Add or replace the uploaded subtitles of a language (owner, moderators, admins)
         * @description multipart/form-data with the file in the field `file` (max 5 MB): WebVTT or SubRip (.srt), recognised by content, not name; UTF-8, UTF-16 with BOM or Windows-1252. Converted to WebVTT and validated (parseable cues, end after start, cues in start order): 422 `invalid_subtitles` lists the problems by line (also hours beyond 999 and cues starting more than 60 s after the video's end); other files 415; larger 413 `file_too_large`; more cues than SUBTITLE_MAX_CUES (default 20,000) 413 `too_many_cues` with `{limit, cues}`; too many files being read at once 503 `subtitles_busy` with `Retry-After`. The master playlist gains (or updates) the SUBTITLES rendition, and every later conversion (reprocess) keeps it. Only once the video is converted (409 `not_converted` before). 201 for a new track, 200 for a replaced one.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    /** @description BCP 47 (`fr`, `fr-CA`) or ISO 639-2 (`fra`); stored as the short form (`fr`). */
                    lang: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "multipart/form-data": {
                        /**
                         * Format: binary
                         * @description .vtt or .srt
                         */
                        file: string;
                    };
                };
            };
            responses: {
                /** @description The track, replacing the language's previous upload */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "lang": "en",
                         *       "name": "English",
                         *       "url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/subs_en/index.vtt",
                         *       "source": "upload"
                         *     }
                         */
                        "application/json": {
                            /** @description BCP 47 short form (`fr`) */
                            lang: string;
                            /** @description the language's own name */
                            name: string;
                            /** @description the WebVTT file (with the playback token for private videos) */
                            url: string;
                            /** @description from the uploaded file's streams, or uploaded since */
                            source: "source" | "upload";
                        };
                    };
                };
                /** @description The track, new for its language */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "lang": "en",
                         *       "name": "English",
                         *       "url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/subs_en/index.vtt",
                         *       "source": "upload"
                         *     }
                         */
                        "application/json": {
                            /** @description BCP 47 short form (`fr`) */
                            lang: string;
                            /** @description the language's own name */
                            name: string;
                            /** @description the WebVTT file (with the playback token for private videos) */
                            url: string;
                            /** @description from the uploaded file's streams, or uploaded since */
                            source: "source" | "upload";
                        };
                    };
                };
                /** @description `invalid_language` (the path's `lang`), `file_required`, or `validation_error` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the owner, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`); no track of that language (`subtitles_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The video is not converted yet (`not_converted`, `{status}`), or another request is changing its tracks (`concurrent_update`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Over 5 MB (`file_too_large`), or more cues than SUBTITLE_MAX_CUES (`too_many_cues`, `{limit, cues}`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not WebVTT or SubRip (`unsupported_subtitles`), or not multipart/form-data (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not valid (`invalid_subtitles`, `{format, problems: [{line, message}]}`), or too slow or large to read (`subtitles_too_complex`) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many files are being read right now (`subtitles_busy`, `{retry_after_s}`, `Retry-After`) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        post?: never;
        /**
         * Remove the subtitles of a language (owner, moderators, admins)
         * @description Removes the uploaded track of the language, which brings back a source track it replaced; without an uploaded track, removes the source track(s) of the language. The master playlist is rewritten. 404 when the language has no track.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    /** @description BCP 47 (`fr`, `fr-CA`) or ISO 639-2 (`fra`); stored as the short form (`fr`). */
                    lang: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed; the master playlist no longer lists it */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description `invalid_language` (the path's `lang`), `file_required`, or `validation_error` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the owner, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`); no track of that language (`subtitles_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The video is not converted yet (`not_converted`, `{status}`), or another request is changing its tracks (`concurrent_update`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/events/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live events of a video (Server-Sent Events)
         * @description Owner, moderators and admins. `text/event-stream`: `event:` is the type (snapshot, upload, status, processing, deleted…), `id:` the seq, `data:` the JSON event `{type, video_id, seq, at, …}`. Starts with `retry: 3000` and a `snapshot` of the current state; a client reconnecting with `Last-Event-ID` (or `?last_event_id=`) receives the events it missed instead. `: ping` comments every 15 s. The token may be passed as `?token=` (EventSource cannot send headers). The same events are available as JSON text frames on the WebSocket `/ws/videos/{id}/` (`?token=`, `?last_seq=`, `{"type":"resume","last_seq":N}`; auth failures close with 4401/4403/4404).
         */
        get: {
            parameters: {
                query?: {
                    /** @description Same as the Last-Event-ID header. */
                    last_event_id?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description An endless text/event-stream */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": string;
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the owner, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/ws/videos/{id}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live events of a video (WebSocket)
         * @description Send `Connection: Upgrade` + `Upgrade: websocket` (RFC 6455). The same events as the SSE stream, one JSON text frame each, starting with a `snapshot` (or, with `?last_seq=N`, the events after N). Client frames: `{"type":"resume","last_seq":N}`, `{"type":"ping"}`. Owner, moderators and admins, signed in with `?token=`; refusals are an `error` frame then close 4401/4403/4404. A plain GET (no upgrade) gets 426.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Access token (a browser's WebSocket cannot send headers). */
                    token?: string;
                    /** @description Replay the events after this seq. */
                    last_seq?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Switching Protocols: the WebSocket is open (frames and close codes in the operation's and the tag's descriptions) */
                101: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The `Authorization` header is malformed or its token refused (other refusals come as close codes after the upgrade) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not a WebSocket upgrade request (`upgrade_required`, `Upgrade: websocket`) */
                426: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/upload/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a tus upload, or upload a small file in one multipart/form-data request
         * @description tus 1.0 creation (Upload-Length, Upload-Metadata: filename, filetype, title, description, visibility, language; Upload-Concat for parallel uploads; a body of type application/offset+octet-stream for creation-with-upload) → 201 with Location and Video-Id. Or multipart/form-data with a `file` field and the same metadata fields → 201 with the video. Creation checks the limits before any byte is sent: MAX_UPLOAD_SIZE, the storage quota, MAX_CONCURRENT_UPLOADS, MAX_QUEUED_CONVERSIONS.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description `1.0.0` (tus creation; not for the multipart upload) */
                    "Tus-Resumable"?: string;
                    /** @description the file's size in bytes (at most MAX_UPLOAD_SIZE, Tus-Max-Size); not on a final concatenation */
                    "Upload-Length"?: string;
                    /** @description comma-separated `key base64value`: filename, filetype (ignored: the bytes are sniffed), title, description, visibility (public|unlisted|private), language */
                    "Upload-Metadata"?: string;
                    /** @description `partial`, or `final;<url> <url>…` to concatenate finished partial uploads */
                    "Upload-Concat"?: string;
                    /** @description with creation-with-upload: `<sha1|md5|sha256|sha512> <base64 digest>` of the body */
                    "Upload-Checksum"?: string;
                    /** @description `application/offset+octet-stream` with data (creation-with-upload), or `multipart/form-data` (simple upload) */
                    "Content-Type"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/offset+octet-stream": string;
                    "multipart/form-data": {
                        /**
                         * Format: binary
                         * @description the video (at most SIMPLE_UPLOAD_MAX)
                         */
                        file: string;
                        title?: string;
                        description?: string;
                        /** @enum {string} */
                        visibility?: "public" | "unlisted" | "private";
                        language?: string;
                    };
                };
            };
            responses: {
                /** @description tus: created, no body; the upload's URL in `Location` (with data: its new `Upload-Offset`). Multipart: the video (status `validating`) */
                201: {
                    headers: {
                        /** @description the upload's URL (tus) */
                        Location?: string;
                        /** @description after creation-with-upload, or 0 for an empty file */
                        "Upload-Offset"?: string;
                        /** @description RFC 9110 date after which an unfinished upload is swept (UPLOAD_EXPIRY after its last PATCH) */
                        "Upload-Expires"?: string;
                        /** @description the video this upload creates (its live events: `/api/videos/{id}/events/`) */
                        "Video-Id"?: string;
                        /** @description `1.0.0` */
                        "Tus-Resumable"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["VideoDetail"];
                    };
                };
                /** @description A tus header is invalid (`invalid_upload_length`, `invalid_upload_offset`, `invalid_upload_metadata`, `invalid_checksum`, `invalid_upload_concat`, …; entries name the header), or metadata fields are (`validation_error`, location `metadata`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller may not upload (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A partial upload named in Upload-Concat is not the caller's */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Upload-Offset is not the upload's offset (`offset_mismatch`, `{offset}`, `Upload-Offset`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The upload expired (`upload_expired`, `{video_id}`) */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Tus-Resumable missing or unsupported (`tus_version_unsupported`, `Tus-Version`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Larger than MAX_UPLOAD_SIZE or SIMPLE_UPLOAD_MAX (`too_large`, `{limit, requested}`), over the storage quota (`quota_exceeded`, `{used, limit, requested}`), or more bytes than Upload-Length (`upload_length_exceeded`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not `application/offset+octet-stream` (`unsupported_media_type`), or the first bytes are not an accepted video (`not_a_video`, `unsupported_container`, `empty_file`, `{video_id}`; the upload is terminated) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Another request is writing to this upload (`upload_locked`, `{retry_after_s}`, `Retry-After`) */
                423: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description MAX_CONCURRENT_UPLOADS unfinished uploads (`too_many_uploads`), or MAX_QUEUED_CONVERSIONS conversions in flight (`conversion_queue_full`, `{queued, limit, retry_after_s}`); `Retry-After` */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The chunk does not match its Upload-Checksum (`checksum_mismatch`; discarded, the offset unchanged) */
                460: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The server is out of space (`insufficient_storage`, `Retry-After`) */
                507: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        delete?: never;
        /**
         * tus discovery (Tus-Version, Tus-Extension, Tus-Max-Size)
         * @description A plain OPTIONS (no Origin) answers the tus capabilities; a CORS preflight from an origin in CORS_ORIGINS answers 204 with the Access-Control-* headers (tus headers are allowed and exposed), one from another origin 403 `cors_origin_denied`.
         */
        options: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The tus capabilities (or a CORS preflight's answer) */
                204: {
                    headers: {
                        /** @description `1.0.0` */
                        "Tus-Version"?: string;
                        /** @description `creation,creation-with-upload,termination,expiration,checksum,concatenation` */
                        "Tus-Extension"?: string;
                        /** @description MAX_UPLOAD_SIZE in bytes */
                        "Tus-Max-Size"?: string;
                        /** @description `sha1,md5,sha256,sha512` */
                        "Tus-Checksum-Algorithm"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A CORS preflight from an origin not in CORS_ORIGINS (`cors_origin_denied`, `{origin}`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/videos/upload/{uploadId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * X-HTTP-Method-Override: PATCH | DELETE | HEAD
         * @description For clients that cannot send PATCH or DELETE: answers as the overriding method would; without a known override 405.
         */
        post: {
            parameters: {
                query?: never;
                header: {
                    /** @description `1.0.0`; other versions get 412 with `Tus-Version` */
                    "Tus-Resumable": string;
                    /** @description `PATCH`, `DELETE` or `HEAD` */
                    "X-HTTP-Method-Override": string;
                };
                path: {
                    uploadId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/offset+octet-stream": string;
                };
            };
            responses: {
                /** @description As HEAD */
                200: {
                    headers: {
                        /** @description bytes received so far */
                        "Upload-Offset"?: string;
                        /** @description RFC 9110 date after which an unfinished upload is swept (UPLOAD_EXPIRY after its last PATCH) */
                        "Upload-Expires"?: string;
                        /** @description the video this upload creates (its live events: `/api/videos/{id}/events/`) */
                        "Video-Id"?: string;
                        /** @description `1.0.0` */
                        "Tus-Resumable"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description As PATCH or DELETE */
                204: {
                    headers: {
                        /** @description bytes received so far */
                        "Upload-Offset"?: string;
                        /** @description RFC 9110 date after which an unfinished upload is swept (UPLOAD_EXPIRY after its last PATCH) */
                        "Upload-Expires"?: string;
                        /** @description the video this upload creates (its live events: `/api/videos/{id}/events/`) */
                        "Video-Id"?: string;
                        /** @description `1.0.0` */
                        "Tus-Resumable"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description A tus header is invalid (`invalid_upload_length`, `invalid_upload_offset`, `invalid_upload_metadata`, `invalid_checksum`, `invalid_upload_concat`, …; entries name the header), or metadata fields are (`validation_error`, location `metadata`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller may not upload (`permission_denied`), or a final upload cannot change (`final_upload_immutable`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such upload of the caller's (`upload_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No `X-HTTP-Method-Override` of PATCH, DELETE or HEAD (`method_not_allowed`, `{allow}`) */
                405: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Upload-Offset is not the upload's offset (`offset_mismatch`, `{offset}`, `Upload-Offset`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The upload expired (`upload_expired`, `{video_id}`) */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Tus-Resumable missing or unsupported (`tus_version_unsupported`, `Tus-Version`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More bytes than Upload-Length (`upload_length_exceeded`, `{remaining}`; the chunk is discarded) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not `application/offset+octet-stream` (`unsupported_media_type`), or the first bytes are not an accepted video (`not_a_video`, `unsupported_container`, `empty_file`, `{video_id}`; the upload is terminated) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Another request is writing to this upload (`upload_locked`, `{retry_after_s}`, `Retry-After`) */
                423: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The chunk does not match its Upload-Checksum (`checksum_mismatch`; discarded, the offset unchanged) */
                460: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The server is out of space (`insufficient_storage`, `Retry-After`) */
                507: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /**
         * Terminate an upload (tus termination)
         * @description Deletes the bytes and the upload's video.
         */
        delete: {
            parameters: {
                query?: never;
                header: {
                    /** @description `1.0.0`; other versions get 412 with `Tus-Version` */
                    "Tus-Resumable": string;
                };
                path: {
                    uploadId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Terminated */
                204: {
                    headers: {
                        /** @description `1.0.0` */
                        "Tus-Resumable"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description A tus header is invalid (`invalid_upload_length`, `invalid_upload_offset`, `invalid_upload_metadata`, `invalid_checksum`, `invalid_upload_concat`, …; entries name the header), or metadata fields are (`validation_error`, location `metadata`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller may not upload (`permission_denied`), or a final upload cannot change (`final_upload_immutable`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such upload of the caller's (`upload_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Upload-Offset is not the upload's offset (`offset_mismatch`, `{offset}`, `Upload-Offset`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The upload expired (`upload_expired`, `{video_id}`) */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Tus-Resumable missing or unsupported (`tus_version_unsupported`, `Tus-Version`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More bytes than Upload-Length (`upload_length_exceeded`, `{remaining}`; the chunk is discarded) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not `application/offset+octet-stream` (`unsupported_media_type`), or the first bytes are not an accepted video (`not_a_video`, `unsupported_container`, `empty_file`, `{video_id}`; the upload is terminated) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Another request is writing to this upload (`upload_locked`, `{retry_after_s}`, `Retry-After`) */
                423: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The chunk does not match its Upload-Checksum (`checksum_mismatch`; discarded, the offset unchanged) */
                460: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The server is out of space (`insufficient_storage`, `Retry-After`) */
                507: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /**
         * tus discovery
         * @description A plain OPTIONS (no Origin) answers the tus capabilities; a CORS preflight from an origin in CORS_ORIGINS answers 204 with the Access-Control-* headers (tus headers are allowed and exposed), one from another origin 403 `cors_origin_denied`.
         */
        options: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    uploadId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The tus capabilities (or a CORS preflight's answer) */
                204: {
                    headers: {
                        /** @description `1.0.0` */
                        "Tus-Version"?: string;
                        /** @description `creation,creation-with-upload,termination,expiration,checksum,concatenation` */
                        "Tus-Extension"?: string;
                        /** @description MAX_UPLOAD_SIZE in bytes */
                        "Tus-Max-Size"?: string;
                        /** @description `sha1,md5,sha256,sha512` */
                        "Tus-Checksum-Algorithm"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A CORS preflight from an origin not in CORS_ORIGINS (`cors_origin_denied`, `{origin}`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /**
         * Upload offset (tus HEAD)
         * @description Where to resume. `Cache-Control: no-store`.
         */
        head: {
            parameters: {
                query?: never;
                header: {
                    /** @description `1.0.0`; other versions get 412 with `Tus-Version` */
                    "Tus-Resumable": string;
                };
                path: {
                    uploadId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The upload's state, in headers */
                200: {
                    headers: {
                        /** @description bytes received so far */
                        "Upload-Offset"?: string;
                        /** @description RFC 9110 date after which an unfinished upload is swept (UPLOAD_EXPIRY after its last PATCH) */
                        "Upload-Expires"?: string;
                        /** @description the video this upload creates (its live events: `/api/videos/{id}/events/`) */
                        "Video-Id"?: string;
                        /** @description `1.0.0` */
                        "Tus-Resumable"?: string;
                        /** @description the declared size */
                        "Upload-Length"?: string;
                        /** @description as sent at creation */
                        "Upload-Metadata"?: string;
                        /** @description `partial`, or the `final;…` value sent at creation */
                        "Upload-Concat"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description A tus header is invalid (`invalid_upload_length`, `invalid_upload_offset`, `invalid_upload_metadata`, `invalid_checksum`, `invalid_upload_concat`, …; entries name the header), or metadata fields are (`validation_error`, location `metadata`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller may not upload (`permission_denied`), or a final upload cannot change (`final_upload_immutable`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such upload of the caller's (`upload_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Upload-Offset is not the upload's offset (`offset_mismatch`, `{offset}`, `Upload-Offset`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The upload expired (`upload_expired`, `{video_id}`) */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Tus-Resumable missing or unsupported (`tus_version_unsupported`, `Tus-Version`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More bytes than Upload-Length (`upload_length_exceeded`, `{remaining}`; the chunk is discarded) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not `application/offset+octet-stream` (`unsupported_media_type`), or the first bytes are not an accepted video (`not_a_video`, `unsupported_container`, `empty_file`, `{video_id}`; the upload is terminated) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Another request is writing to this upload (`upload_locked`, `{retry_after_s}`, `Retry-After`) */
                423: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The chunk does not match its Upload-Checksum (`checksum_mismatch`; discarded, the offset unchanged) */
                460: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The server is out of space (`insufficient_storage`, `Retry-After`) */
                507: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /**
         * Append bytes (tus PATCH, application/offset+octet-stream)
         * @description The bytes at `Upload-Offset`. After the last byte the video goes to `validating` (the answer does not wait for it).
         */
        patch: {
            parameters: {
                query?: never;
                header: {
                    /** @description `1.0.0`; other versions get 412 with `Tus-Version` */
                    "Tus-Resumable": string;
                    /** @description the upload's current offset (HEAD says it); another gets 409 `offset_mismatch` */
                    "Upload-Offset": string;
                    /** @description `application/offset+octet-stream`; another gets 415 */
                    "Content-Type": string;
                    /** @description `<algorithm> <base64 digest>` of this chunk; a mismatch gets 460 and the chunk is discarded */
                    "Upload-Checksum"?: string;
                };
                path: {
                    uploadId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/offset+octet-stream": string;
                };
            };
            responses: {
                /** @description Stored; the new offset in `Upload-Offset` */
                204: {
                    headers: {
                        /** @description bytes received so far */
                        "Upload-Offset"?: string;
                        /** @description RFC 9110 date after which an unfinished upload is swept (UPLOAD_EXPIRY after its last PATCH) */
                        "Upload-Expires"?: string;
                        /** @description the video this upload creates (its live events: `/api/videos/{id}/events/`) */
                        "Video-Id"?: string;
                        /** @description `1.0.0` */
                        "Tus-Resumable"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description A tus header is invalid (`invalid_upload_length`, `invalid_upload_offset`, `invalid_upload_metadata`, `invalid_checksum`, `invalid_upload_concat`, …; entries name the header), or metadata fields are (`validation_error`, location `metadata`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller may not upload (`permission_denied`), or a final upload cannot change (`final_upload_immutable`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such upload of the caller's (`upload_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Upload-Offset is not the upload's offset (`offset_mismatch`, `{offset}`, `Upload-Offset`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The upload expired (`upload_expired`, `{video_id}`) */
                410: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Tus-Resumable missing or unsupported (`tus_version_unsupported`, `Tus-Version`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More bytes than Upload-Length (`upload_length_exceeded`, `{remaining}`; the chunk is discarded) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not `application/offset+octet-stream` (`unsupported_media_type`), or the first bytes are not an accepted video (`not_a_video`, `unsupported_container`, `empty_file`, `{video_id}`; the upload is terminated) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Another request is writing to this upload (`upload_locked`, `{retry_after_s}`, `Retry-After`) */
                423: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The chunk does not match its Upload-Checksum (`checksum_mismatch`; discarded, the offset unchanged) */
                460: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The server is out of space (`insufficient_storage`, `Retry-After`) */
                507: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/videos/{id}/stream/{quality}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Progressive MP4 of one rung, with HTTP Range support (RFC 9110)
         * @description Single ranges answer 206, several ranges multipart/byteranges (more than 20: 200), unsatisfiable ones 416 with `Content-Range: bytes *\/size`; If-Range, If-None-Match, If-Modified-Since, If-Match and If-Unmodified-Since are honoured. Private videos need `?token=` (or the owner's bearer).
         */
        get: {
            parameters: {
                query?: never;
                header?: {
                    /** @description `bytes=0-1023`, `bytes=-500`, several comma-separated (RFC 9110 §14.2) */
                    range?: string;
                    "if-range"?: string;
                    "if-none-match"?: string;
                    "if-modified-since"?: string;
                    "if-match"?: string;
                    "if-unmodified-since"?: string;
                };
                path: {
                    id: string;
                    /** @description a rung of the video (`480p`) */
                    quality: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The MP4: the whole file (also for a malformed Range, or more than 20 ranges). With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here */
                200: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "video/mp4": string;
                    };
                };
                /** @description Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6) */
                206: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        /** @description `bytes first-last/size` (single range) */
                        "Content-Range"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "video/mp4": string;
                        "multipart/byteranges": string;
                    };
                };
                /** @description S3_STREAM_MODE=redirect: a presigned URL of the object */
                302: {
                    headers: {
                        /** @description the presigned URL */
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry */
                304: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid path or query (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description If-Match / If-Unmodified-Since failed (`precondition_failed`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes *\/size`) */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * Progressive MP4 of one rung, with HTTP Range support (RFC 9110)
         * @description Single ranges answer 206, several ranges multipart/byteranges (more than 20: 200), unsatisfiable ones 416 with `Content-Range: bytes *\/size`; If-Range, If-None-Match, If-Modified-Since, If-Match and If-Unmodified-Since are honoured. Private videos need `?token=` (or the owner's bearer).
         */
        head: {
            parameters: {
                query?: never;
                header?: {
                    /** @description `bytes=0-1023`, `bytes=-500`, several comma-separated (RFC 9110 §14.2) */
                    range?: string;
                    "if-range"?: string;
                    "if-none-match"?: string;
                    "if-modified-since"?: string;
                    "if-match"?: string;
                    "if-unmodified-since"?: string;
                };
                path: {
                    id: string;
                    /** @description a rung of the video (`480p`) */
                    quality: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The MP4: the whole file (also for a malformed Range, or more than 20 ranges). With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here */
                200: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "video/mp4": string;
                    };
                };
                /** @description Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6) */
                206: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        /** @description `bytes first-last/size` (single range) */
                        "Content-Range"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "video/mp4": string;
                        "multipart/byteranges": string;
                    };
                };
                /** @description S3_STREAM_MODE=redirect: a presigned URL of the object */
                302: {
                    headers: {
                        /** @description the presigned URL */
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry */
                304: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid path or query (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description If-Match / If-Unmodified-Since failed (`precondition_failed`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes *\/size`) */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/hls/{*}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * HLS master/media playlists, segments and WebVTT subtitles
         * @description Private videos' playlists are rewritten so every nested URI carries the playback token.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    /** @description `master.m3u8`, a rung's `480p/index.m3u8`, its segments, audio and subtitle renditions */
                    "*": string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The playlist, segment or subtitle file: the whole file (also for a malformed Range, or more than 20 ranges). With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here */
                200: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/vnd.apple.mpegurl": string;
                        "video/mp2t": string;
                        "video/mp4": string;
                        "audio/mp4": string;
                        "text/vtt": string;
                    };
                };
                /** @description Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6) */
                206: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        /** @description `bytes first-last/size` (single range) */
                        "Content-Range"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/vnd.apple.mpegurl": string;
                        "video/mp2t": string;
                        "video/mp4": string;
                        "audio/mp4": string;
                        "text/vtt": string;
                        "multipart/byteranges": string;
                    };
                };
                /** @description S3_STREAM_MODE=redirect: a presigned URL of the object */
                302: {
                    headers: {
                        /** @description the presigned URL */
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry */
                304: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid path or query (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description If-Match / If-Unmodified-Since failed (`precondition_failed`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes *\/size`) */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * HLS master/media playlists, segments and WebVTT subtitles
         * @description Private videos' playlists are rewritten so every nested URI carries the playback token.
         */
        head: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    /** @description `master.m3u8`, a rung's `480p/index.m3u8`, its segments, audio and subtitle renditions */
                    "*": string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The playlist, segment or subtitle file: the whole file (also for a malformed Range, or more than 20 ranges). With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here */
                200: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/vnd.apple.mpegurl": string;
                        "video/mp2t": string;
                        "video/mp4": string;
                        "audio/mp4": string;
                        "text/vtt": string;
                    };
                };
                /** @description Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6) */
                206: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        /** @description `bytes first-last/size` (single range) */
                        "Content-Range"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/vnd.apple.mpegurl": string;
                        "video/mp2t": string;
                        "video/mp4": string;
                        "audio/mp4": string;
                        "text/vtt": string;
                        "multipart/byteranges": string;
                    };
                };
                /** @description S3_STREAM_MODE=redirect: a presigned URL of the object */
                302: {
                    headers: {
                        /** @description the presigned URL */
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry */
                304: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid path or query (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description If-Match / If-Unmodified-Since failed (`precondition_failed`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes *\/size`) */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/view/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reports a view (players that report watch time)
         * @description Counted once per viewer per video per VIEW_WINDOW (an account, else the client address and User-Agent), and at most VIEWS_PER_ADDRESS anonymous viewers per address (IPv6: per /64) per video per window; `counted` says whether this one was. The detail's `views` follows within seconds.
         */
        post: {
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
                /** @description Received */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "counted": true
                         *     }
                         */
                        "application/json": {
                            /** @description whether this view counted (false: seen in this window, or the address's cap reached) */
                            counted: boolean;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or a private one without credentials (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/{id}/chapters/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Chapters in seconds; `end` is the next start or the duration */
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
                /** @description The chapters, in order */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example [
                         *       {
                         *         "index": 0,
                         *         "title": "Harbour",
                         *         "start": 0,
                         *         "end": 30
                         *       },
                         *       {
                         *         "index": 1,
                         *         "title": "Market",
                         *         "start": 30,
                         *         "end": 62.5
                         *       }
                         *     ]
                         */
                        "application/json": {
                            index: number;
                            title: string;
                            /** @description seconds */
                            start: number;
                            /** @description seconds */
                            end: number;
                        }[];
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or a private one without credentials (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /**
         * Replaces the chapters (owner, moderators, admins)
         * @description Sorted by start, strictly increasing, inside the duration, titles 1-100 characters, at most 500. An empty list clears them (description timestamps apply again).
         */
        put: {
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
                    /**
                     * @example [
                     *       {
                     *         "title": "Harbour",
                     *         "start": 0
                     *       },
                     *       {
                     *         "title": "Market",
                     *         "start": 30
                     *       }
                     *     ]
                     */
                    "application/json": {
                        title: string;
                        start: number;
                        index?: number;
                        end?: number;
                    }[];
                };
            };
            responses: {
                /** @description The chapters, in order */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example [
                         *       {
                         *         "index": 0,
                         *         "title": "Harbour",
                         *         "start": 0,
                         *         "end": 30
                         *       },
                         *       {
                         *         "index": 1,
                         *         "title": "Market",
                         *         "start": 30,
                         *         "end": 62.5
                         *       }
                         *     ]
                         */
                        "application/json": {
                            index: number;
                            title: string;
                            /** @description seconds */
                            start: number;
                            /** @description seconds */
                            end: number;
                        }[];
                    };
                };
                /** @description Invalid chapters (`validation_error`: entries name `<index>.title` or `<index>.start` with codes such as `not_increasing`, `out_of_range`, `max_length`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the owner, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The duration is not known yet (`duration_unknown`) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/chapters.vtt": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Chapters as a WebVTT chapters track */
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
                /** @description The WebVTT chapters track: the whole file (also for a malformed Range, or more than 20 ranges). With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here */
                200: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "text/vtt": string;
                    };
                };
                /** @description Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6) */
                206: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        /** @description `bytes first-last/size` (single range) */
                        "Content-Range"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "text/vtt": string;
                        "multipart/byteranges": string;
                    };
                };
                /** @description S3_STREAM_MODE=redirect: a presigned URL of the object */
                302: {
                    headers: {
                        /** @description the presigned URL */
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry */
                304: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid path or query (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description If-Match / If-Unmodified-Since failed (`precondition_failed`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes *\/size`) */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /** Chapters as a WebVTT chapters track */
        head: {
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
                /** @description The WebVTT chapters track: the whole file (also for a malformed Range, or more than 20 ranges). With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here */
                200: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "text/vtt": string;
                    };
                };
                /** @description Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6) */
                206: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        /** @description `bytes first-last/size` (single range) */
                        "Content-Range"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "text/vtt": string;
                        "multipart/byteranges": string;
                    };
                };
                /** @description S3_STREAM_MODE=redirect: a presigned URL of the object */
                302: {
                    headers: {
                        /** @description the presigned URL */
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry */
                304: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid path or query (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description If-Match / If-Unmodified-Since failed (`precondition_failed`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes *\/size`) */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/segments/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The segmented structure: segments per rung and the segment span of each chapter */
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
                /** @description Segments per rung, and the segments each chapter spans */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "renditions": [
                         *         {
                         *           "quality": "480p",
                         *           "playlist_uri": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/480p/index.m3u8",
                         *           "target_duration": 4,
                         *           "ended": true,
                         *           "segments": [
                         *             {
                         *               "index": 0,
                         *               "uri": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/480p/seg_00000.ts",
                         *               "start": 0,
                         *               "duration": 4
                         *             }
                         *           ]
                         *         }
                         *       ],
                         *       "chapters": [
                         *         {
                         *           "index": 0,
                         *           "title": "Harbour",
                         *           "start": 0,
                         *           "end": 30,
                         *           "segments": {
                         *             "480p": {
                         *               "first": 0,
                         *               "last": 7
                         *             }
                         *           }
                         *         }
                         *       ]
                         *     }
                         */
                        "application/json": {
                            renditions: {
                                quality: string;
                                playlist_uri: string;
                                target_duration: number | null;
                                ended: boolean;
                                segments: {
                                    index: number;
                                    uri: string;
                                    start: number;
                                    duration: number;
                                }[];
                            }[];
                            chapters: {
                                index: number;
                                title: string;
                                start: number;
                                end: number;
                                /** @description per quality: first and last segment index covering the chapter */
                                segments: {
                                    [key: string]: {
                                        first: number;
                                        last: number;
                                    } | null;
                                };
                            }[];
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or a private one without credentials (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/{id}/thumbs/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A thumbnail: poster, candidate, storyboard sprite sheet and its WebVTT index, custom poster
         * @description Names: `poster.jpg`, `c0.jpg`…`c4.jpg`, `storyboard.jpg`, `storyboard.vtt` (cues `storyboard.jpg#xywh=x,y,w,h`), `custom-poster.jpg`. Private videos need `?token=` (the detail's URLs carry it) or the owner's/staff bearer.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The image or storyboard index: the whole file (also for a malformed Range, or more than 20 ranges). With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here */
                200: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "image/jpeg": string;
                        "image/webp": string;
                        "text/vtt": string;
                    };
                };
                /** @description Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6) */
                206: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        /** @description `bytes first-last/size` (single range) */
                        "Content-Range"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "image/jpeg": string;
                        "image/webp": string;
                        "text/vtt": string;
                        "multipart/byteranges": string;
                    };
                };
                /** @description S3_STREAM_MODE=redirect: a presigned URL of the object */
                302: {
                    headers: {
                        /** @description the presigned URL */
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry */
                304: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid path or query (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description If-Match / If-Unmodified-Since failed (`precondition_failed`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes *\/size`) */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /**
         * A thumbnail: poster, candidate, storyboard sprite sheet and its WebVTT index, custom poster
         * @description Names: `poster.jpg`, `c0.jpg`…`c4.jpg`, `storyboard.jpg`, `storyboard.vtt` (cues `storyboard.jpg#xywh=x,y,w,h`), `custom-poster.jpg`. Private videos need `?token=` (the detail's URLs carry it) or the owner's/staff bearer.
         */
        head: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The image or storyboard index: the whole file (also for a malformed Range, or more than 20 ranges). With MEDIA_OFFLOAD=nginx the API's own answer to the proxy is an empty 200 with `X-Accel-Redirect` (nginx hides it) and nginx sends the file, with the statuses and headers listed here */
                200: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "image/jpeg": string;
                        "image/webp": string;
                        "text/vtt": string;
                    };
                };
                /** @description Partial content: one range (`Content-Range: bytes a-b/size`), or several as multipart/byteranges (§14.6) */
                206: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        /** @description `bytes first-last/size` (single range) */
                        "Content-Range"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "image/jpeg": string;
                        "image/webp": string;
                        "text/vtt": string;
                        "multipart/byteranges": string;
                    };
                };
                /** @description S3_STREAM_MODE=redirect: a presigned URL of the object */
                302: {
                    headers: {
                        /** @description the presigned URL */
                        Location?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not modified (If-None-Match / If-Modified-Since): no body, the validators a 200 would carry */
                304: {
                    headers: {
                        /** @description bytes of this answer's body */
                        "Content-Length"?: string;
                        /** @description `bytes` */
                        "Accept-Ranges"?: string;
                        /** @description strong validator, for If-None-Match / If-Range */
                        ETag?: string;
                        /** @description for If-Modified-Since */
                        "Last-Modified"?: string;
                        /** @description immutable for segments and renditions, short for playlists, `private, no-store` for private videos */
                        "Cache-Control"?: string;
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid path or query (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A private video's playback token is invalid, expired, revoked or for another video (`playback_token_*`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or file, or a private one without credentials (`video_not_found`, `format_not_found`, `media_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description If-Match / If-Unmodified-Since failed (`precondition_failed`) */
                412: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Range not satisfiable (`range_not_satisfiable`, `Content-Range: bytes *\/size`) */
                416: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/poster/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Upload a custom poster (owner, moderators, admins)
         * @description multipart/form-data with the image in the field `file` (max 5 MB). JPEG, PNG, GIF, WebP or AVIF, recognised by content, not name; re-encoded to a JPEG of at most 1280 px on its longer side. Others: 415; larger: 413. `PATCH /api/videos/{id}/` with `poster_candidate` switches back to a generated one.
         */
        put: {
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
                    "multipart/form-data": {
                        /**
                         * Format: binary
                         * @description the image
                         */
                        file: string;
                    };
                };
            };
            responses: {
                /** @description The video, with the new poster */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["VideoDetail"];
                    };
                };
                /** @description No file part (`file_required`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the owner, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Over 5 MB (`file_too_large`) or too many pixels (`image_too_large`, `{width, height}`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not an image we read (`unsupported_image`), or not multipart/form-data (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/like/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Like a video
         * @description Sets your reaction to `like` (switching from the other one). Idempotent: the same POST again, a retry or a double click changes nothing. No body (or `{}`). At most 60 reactions a minute per user (429 + Retry-After).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            /** @description No body, or `{}`. */
            requestBody: {
                content: {
                    /** @example {} */
                    "application/json": Record<string, never> | null;
                };
            };
            responses: {
                /** @description The video's counts and your reaction */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "likes": 12,
                         *       "dislikes": 1,
                         *       "my_reaction": "like"
                         *     }
                         */
                        "application/json": {
                            likes: number;
                            dislikes: number;
                            /** @enum {string|null} */
                            my_reaction: "like" | "dislike" | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller's role may not react (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More than REACTION_RATE_LIMIT reactions this minute (`throttled`, `{retry_after_s}`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /**
         * Remove your reaction to a video
         * @description Removes your like or dislike, whichever it is (the same on both URLs); nothing to remove changes nothing.
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
                /** @description The video's counts and your reaction */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "likes": 12,
                         *       "dislikes": 1,
                         *       "my_reaction": "like"
                         *     }
                         */
                        "application/json": {
                            likes: number;
                            dislikes: number;
                            /** @enum {string|null} */
                            my_reaction: "like" | "dislike" | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller's role may not react (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More than REACTION_RATE_LIMIT reactions this minute (`throttled`, `{retry_after_s}`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/dislike/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Dislike a video
         * @description Sets your reaction to `dislike` (switching from the other one). Idempotent: the same POST again, a retry or a double click changes nothing. No body (or `{}`). At most 60 reactions a minute per user (429 + Retry-After).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            /** @description No body, or `{}`. */
            requestBody: {
                content: {
                    /** @example {} */
                    "application/json": Record<string, never> | null;
                };
            };
            responses: {
                /** @description The video's counts and your reaction */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "likes": 12,
                         *       "dislikes": 1,
                         *       "my_reaction": "like"
                         *     }
                         */
                        "application/json": {
                            likes: number;
                            dislikes: number;
                            /** @enum {string|null} */
                            my_reaction: "like" | "dislike" | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller's role may not react (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More than REACTION_RATE_LIMIT reactions this minute (`throttled`, `{retry_after_s}`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /**
         * Remove your reaction to a video
         * @description Removes your like or dislike, whichever it is (the same on both URLs); nothing to remove changes nothing.
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
                /** @description The video's counts and your reaction */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "likes": 12,
                         *       "dislikes": 1,
                         *       "my_reaction": "like"
                         *     }
                         */
                        "application/json": {
                            likes: number;
                            dislikes: number;
                            /** @enum {string|null} */
                            my_reaction: "like" | "dislike" | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller's role may not react (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More than REACTION_RATE_LIMIT reactions this minute (`throttled`, `{retry_after_s}`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/comments/{id}/like/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Like a comment
         * @description Idempotent. No body (or `{}`).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            /** @description No body, or `{}`. */
            requestBody: {
                content: {
                    /** @example {} */
                    "application/json": Record<string, never> | null;
                };
            };
            responses: {
                /** @description The comment's likes and whether you like it */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "likes": 3,
                         *       "liked": true
                         *     }
                         */
                        "application/json": {
                            likes: number;
                            liked: boolean;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller's role may not react (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More than REACTION_RATE_LIMIT reactions this minute (`throttled`, `{retry_after_s}`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /** Unlike a comment */
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
                /** @description The comment's likes and whether you like it */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "likes": 3,
                         *       "liked": true
                         *     }
                         */
                        "application/json": {
                            likes: number;
                            liked: boolean;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller's role may not react (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More than REACTION_RATE_LIMIT reactions this minute (`throttled`, `{retry_after_s}`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/comment/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Comment on a video, or reply to a comment
         * @description `text`: trimmed, then 1–5,000 Unicode code points, stored and returned as plain text (markup stays text). `parent_id` makes it a reply; a reply to a reply attaches to the top-level comment. Refused: empty text (`comment_empty`), too long (`comment_too_long`), null bytes or lone surrogates (`invalid_text`), invalid UTF-8 (`invalid_utf8`), a parent of another video or deleted (`invalid_parent`), comments off (403 `comments_disabled`), a blocked or hidden commenter (403 `comment_blocked`), a body over 64 KB (413), more than 10 a minute (429).
         */
        post: {
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
                    "application/json": {
                        /** @description 1–5,000 Unicode code points after trimming; no null bytes or lone surrogates */
                        text: string;
                        /**
                         * Format: uuid
                         * @description reply to this comment (a reply to a reply attaches to its top-level comment)
                         */
                        parent_id?: string | null;
                    };
                };
            };
            responses: {
                /** @description A comment */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "parent_id": null,
                         *       "author": {
                         *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *         "username": "bob",
                         *         "avatar_url": null
                         *       },
                         *       "text": "The drop at 1:23 <3",
                         *       "deleted": false,
                         *       "pinned": false,
                         *       "likes": 4,
                         *       "reply_count": 1,
                         *       "time_refs": [
                         *         83
                         *       ],
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "edited": null,
                         *       "replies": [
                         *         {
                         *           "id": "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
                         *           "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "parent_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *           "author": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "bob",
                         *             "avatar_url": null
                         *           },
                         *           "text": "Agreed, 0:42 too",
                         *           "deleted": false,
                         *           "pinned": false,
                         *           "likes": 0,
                         *           "reply_count": 0,
                         *           "time_refs": [
                         *             42
                         *           ],
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "edited": null
                         *         }
                         *       ]
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** Format: uuid */
                            video_id: string;
                            /**
                             * Format: uuid
                             * @description the top-level comment a reply belongs to
                             */
                            parent_id: string | null;
                            author: {
                                /** Format: uuid */
                                id: string;
                                username: string;
                                /** @description 64 px avatar, an absolute path */
                                avatar_url: string | null;
                            } | null;
                            /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                            text: string | null;
                            /** @description a deleted comment kept as a placeholder because it has replies */
                            deleted: boolean;
                            pinned: boolean;
                            likes: number;
                            reply_count: number;
                            /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                            time_refs: number[];
                            /** Format: date-time */
                            created: string;
                            /**
                             * Format: date-time
                             * @description when the author last edited it
                             */
                            edited: string | null;
                            /** @description the first 3 replies, oldest first (top-level comments only) */
                            replies: {
                                /** Format: uuid */
                                id: string;
                                /** Format: uuid */
                                video_id: string;
                                /**
                                 * Format: uuid
                                 * @description the top-level comment a reply belongs to
                                 */
                                parent_id: string | null;
                                author: {
                                    /** Format: uuid */
                                    id: string;
                                    username: string;
                                    /** @description 64 px avatar, an absolute path */
                                    avatar_url: string | null;
                                } | null;
                                /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                text: string | null;
                                /** @description a deleted comment kept as a placeholder because it has replies */
                                deleted: boolean;
                                pinned: boolean;
                                likes: number;
                                reply_count: number;
                                /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                time_refs: number[];
                                /** Format: date-time */
                                created: string;
                                /**
                                 * Format: date-time
                                 * @description when the author last edited it
                                 */
                                edited: string | null;
                            }[];
                        };
                    };
                };
                /** @description `validation_error`, `comment_empty`, `comment_too_long`, `invalid_text`, `invalid_utf8`, `invalid_parent` (entries name `text` or `parent_id`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Comments are off (`comments_disabled`), the author is blocked or hidden (`comment_blocked`), or not the author (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is over 64 KB (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More than COMMENT_RATE_LIMIT comments this minute (`throttled`, `{retry_after_s}`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/{id}/comments/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Comments of a video
         * @description Top-level comments, the pinned one first (on the first page, outside the ordering), each with its first 3 replies. `?ordering=` `-created` (default), `created` or `-likes`; `?limit=` and `?cursor=` as everywhere.
         */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                    ordering?: "-created" | "created" | "-likes";
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of top-level comments */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "results": [
                         *         {
                         *           "id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *           "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "parent_id": null,
                         *           "author": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "bob",
                         *             "avatar_url": null
                         *           },
                         *           "text": "The drop at 1:23 <3",
                         *           "deleted": false,
                         *           "pinned": false,
                         *           "likes": 4,
                         *           "reply_count": 1,
                         *           "time_refs": [
                         *             83
                         *           ],
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "edited": null,
                         *           "replies": [
                         *             {
                         *               "id": "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
                         *               "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *               "parent_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *               "author": {
                         *                 "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *                 "username": "bob",
                         *                 "avatar_url": null
                         *               },
                         *               "text": "Agreed, 0:42 too",
                         *               "deleted": false,
                         *               "pinned": false,
                         *               "likes": 0,
                         *               "reply_count": 0,
                         *               "time_refs": [
                         *                 42
                         *               ],
                         *               "created": "2026-01-02T03:04:05.000Z",
                         *               "edited": null
                         *             }
                         *           ]
                         *         }
                         *       ],
                         *       "next": "https://vidflux.example/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/comments/?cursor=eyJrZXkiOlsiMjAyNi0wMS0wMlQwMzowNDowNS4wMDBaIl0sImRpciI6Im4ifQ",
                         *       "previous": null
                         *     }
                         */
                        "application/json": {
                            results: {
                                /** Format: uuid */
                                id: string;
                                /** Format: uuid */
                                video_id: string;
                                /**
                                 * Format: uuid
                                 * @description the top-level comment a reply belongs to
                                 */
                                parent_id: string | null;
                                author: {
                                    /** Format: uuid */
                                    id: string;
                                    username: string;
                                    /** @description 64 px avatar, an absolute path */
                                    avatar_url: string | null;
                                } | null;
                                /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                text: string | null;
                                /** @description a deleted comment kept as a placeholder because it has replies */
                                deleted: boolean;
                                pinned: boolean;
                                likes: number;
                                reply_count: number;
                                /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                time_refs: number[];
                                /** Format: date-time */
                                created: string;
                                /**
                                 * Format: date-time
                                 * @description when the author last edited it
                                 */
                                edited: string | null;
                                /** @description the first 3 replies, oldest first (top-level comments only) */
                                replies: {
                                    /** Format: uuid */
                                    id: string;
                                    /** Format: uuid */
                                    video_id: string;
                                    /**
                                     * Format: uuid
                                     * @description the top-level comment a reply belongs to
                                     */
                                    parent_id: string | null;
                                    author: {
                                        /** Format: uuid */
                                        id: string;
                                        username: string;
                                        /** @description 64 px avatar, an absolute path */
                                        avatar_url: string | null;
                                    } | null;
                                    /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                    text: string | null;
                                    /** @description a deleted comment kept as a placeholder because it has replies */
                                    deleted: boolean;
                                    pinned: boolean;
                                    likes: number;
                                    reply_count: number;
                                    /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                    time_refs: number[];
                                    /** Format: date-time */
                                    created: string;
                                    /**
                                     * Format: date-time
                                     * @description when the author last edited it
                                     */
                                    edited: string | null;
                                }[];
                            }[];
                            /** @description the next page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            next: string | null;
                            /** @description the previous page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            previous: string | null;
                        };
                    };
                };
                /** @description Invalid query (`validation_error`, e.g. `enum` for `ordering`; `invalid_cursor`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/comments/{id}/replies/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Replies of a comment, oldest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of replies */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "results": [
                         *         {
                         *           "id": "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
                         *           "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "parent_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *           "author": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "bob",
                         *             "avatar_url": null
                         *           },
                         *           "text": "Agreed, 0:42 too",
                         *           "deleted": false,
                         *           "pinned": false,
                         *           "likes": 0,
                         *           "reply_count": 0,
                         *           "time_refs": [
                         *             42
                         *           ],
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "edited": null
                         *         }
                         *       ],
                         *       "next": "https://vidflux.example/api/comments/0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11/replies/?cursor=eyJrZXkiOlsiMjAyNi0wMS0wMlQwMzowNDowNS4wMDBaIl0sImRpciI6Im4ifQ",
                         *       "previous": null
                         *     }
                         */
                        "application/json": {
                            results: {
                                /** Format: uuid */
                                id: string;
                                /** Format: uuid */
                                video_id: string;
                                /**
                                 * Format: uuid
                                 * @description the top-level comment a reply belongs to
                                 */
                                parent_id: string | null;
                                author: {
                                    /** Format: uuid */
                                    id: string;
                                    username: string;
                                    /** @description 64 px avatar, an absolute path */
                                    avatar_url: string | null;
                                } | null;
                                /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                text: string | null;
                                /** @description a deleted comment kept as a placeholder because it has replies */
                                deleted: boolean;
                                pinned: boolean;
                                likes: number;
                                reply_count: number;
                                /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                time_refs: number[];
                                /** Format: date-time */
                                created: string;
                                /**
                                 * Format: date-time
                                 * @description when the author last edited it
                                 */
                                edited: string | null;
                            }[];
                            /** @description the next page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            next: string | null;
                            /** @description the previous page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            previous: string | null;
                        };
                    };
                };
                /** @description Invalid query (`validation_error`, `invalid_cursor`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/comments/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Recent comments across every video (moderators, admins) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                    ordering?: "-created" | "created";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of comments, newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "results": [
                         *         {
                         *           "id": "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
                         *           "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "parent_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *           "author": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "bob",
                         *             "avatar_url": null
                         *           },
                         *           "text": "Agreed, 0:42 too",
                         *           "deleted": false,
                         *           "pinned": false,
                         *           "likes": 0,
                         *           "reply_count": 0,
                         *           "time_refs": [
                         *             42
                         *           ],
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "edited": null
                         *         }
                         *       ],
                         *       "next": "https://vidflux.example/api/comments/?cursor=eyJrZXkiOlsiMjAyNi0wMS0wMlQwMzowNDowNS4wMDBaIl0sImRpciI6Im4ifQ",
                         *       "previous": null
                         *     }
                         */
                        "application/json": {
                            results: {
                                /** Format: uuid */
                                id: string;
                                /** Format: uuid */
                                video_id: string;
                                /**
                                 * Format: uuid
                                 * @description the top-level comment a reply belongs to
                                 */
                                parent_id: string | null;
                                author: {
                                    /** Format: uuid */
                                    id: string;
                                    username: string;
                                    /** @description 64 px avatar, an absolute path */
                                    avatar_url: string | null;
                                } | null;
                                /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                text: string | null;
                                /** @description a deleted comment kept as a placeholder because it has replies */
                                deleted: boolean;
                                pinned: boolean;
                                likes: number;
                                reply_count: number;
                                /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                time_refs: number[];
                                /** Format: date-time */
                                created: string;
                                /**
                                 * Format: date-time
                                 * @description when the author last edited it
                                 */
                                edited: string | null;
                            }[];
                            /** @description the next page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            next: string | null;
                            /** @description the previous page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            previous: string | null;
                        };
                    };
                };
                /** @description Invalid query (`validation_error`, `invalid_cursor`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The caller's role lacks the right (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/comments/{id}/": {
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
         * Delete a comment (author, the video's owner, moderators, admins)
         * @description A comment with replies stays as a `deleted: true` placeholder without text or author; without replies it goes.
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
                /** @description Deleted (or kept as a placeholder when it has replies) */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the author, the video's owner, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /**
         * Edit your comment
         * @description The author only; the comment is marked `edited`. Same text rules as on creation. Read-only when comments are off.
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
                    /**
                     * @example {
                     *       "text": "The drop at 1:24, actually"
                     *     }
                     */
                    "application/json": {
                        /** @description same rules as on creation */
                        text: string;
                    };
                };
            };
            responses: {
                /** @description A comment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "parent_id": null,
                         *       "author": {
                         *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *         "username": "bob",
                         *         "avatar_url": null
                         *       },
                         *       "text": "The drop at 1:23 <3",
                         *       "deleted": false,
                         *       "pinned": false,
                         *       "likes": 4,
                         *       "reply_count": 1,
                         *       "time_refs": [
                         *         83
                         *       ],
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "edited": null,
                         *       "replies": [
                         *         {
                         *           "id": "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
                         *           "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "parent_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *           "author": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "bob",
                         *             "avatar_url": null
                         *           },
                         *           "text": "Agreed, 0:42 too",
                         *           "deleted": false,
                         *           "pinned": false,
                         *           "likes": 0,
                         *           "reply_count": 0,
                         *           "time_refs": [
                         *             42
                         *           ],
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "edited": null
                         *         }
                         *       ]
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** Format: uuid */
                            video_id: string;
                            /**
                             * Format: uuid
                             * @description the top-level comment a reply belongs to
                             */
                            parent_id: string | null;
                            author: {
                                /** Format: uuid */
                                id: string;
                                username: string;
                                /** @description 64 px avatar, an absolute path */
                                avatar_url: string | null;
                            } | null;
                            /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                            text: string | null;
                            /** @description a deleted comment kept as a placeholder because it has replies */
                            deleted: boolean;
                            pinned: boolean;
                            likes: number;
                            reply_count: number;
                            /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                            time_refs: number[];
                            /** Format: date-time */
                            created: string;
                            /**
                             * Format: date-time
                             * @description when the author last edited it
                             */
                            edited: string | null;
                            /** @description the first 3 replies, oldest first (top-level comments only) */
                            replies: {
                                /** Format: uuid */
                                id: string;
                                /** Format: uuid */
                                video_id: string;
                                /**
                                 * Format: uuid
                                 * @description the top-level comment a reply belongs to
                                 */
                                parent_id: string | null;
                                author: {
                                    /** Format: uuid */
                                    id: string;
                                    username: string;
                                    /** @description 64 px avatar, an absolute path */
                                    avatar_url: string | null;
                                } | null;
                                /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                text: string | null;
                                /** @description a deleted comment kept as a placeholder because it has replies */
                                deleted: boolean;
                                pinned: boolean;
                                likes: number;
                                reply_count: number;
                                /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                time_refs: number[];
                                /** Format: date-time */
                                created: string;
                                /**
                                 * Format: date-time
                                 * @description when the author last edited it
                                 */
                                edited: string | null;
                            }[];
                        };
                    };
                };
                /** @description `validation_error`, `comment_empty`, `comment_too_long`, `invalid_text`, `invalid_utf8`, `invalid_parent` (entries name `text` or `parent_id`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Comments are off (`comments_disabled`), the author is blocked or hidden (`comment_blocked`), or not the author (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is over 64 KB (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More than COMMENT_RATE_LIMIT comments this minute (`throttled`, `{retry_after_s}`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/comments/{id}/pin/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Pin a top-level comment (the video's owner)
         * @description One pinned comment per video: pinning another replaces it. No body (or `{}`).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            /** @description No body, or `{}`. */
            requestBody: {
                content: {
                    /** @example {} */
                    "application/json": Record<string, never> | null;
                };
            };
            responses: {
                /** @description A comment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "parent_id": null,
                         *       "author": {
                         *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *         "username": "bob",
                         *         "avatar_url": null
                         *       },
                         *       "text": "The drop at 1:23 <3",
                         *       "deleted": false,
                         *       "pinned": false,
                         *       "likes": 4,
                         *       "reply_count": 1,
                         *       "time_refs": [
                         *         83
                         *       ],
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "edited": null,
                         *       "replies": [
                         *         {
                         *           "id": "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
                         *           "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "parent_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *           "author": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "bob",
                         *             "avatar_url": null
                         *           },
                         *           "text": "Agreed, 0:42 too",
                         *           "deleted": false,
                         *           "pinned": false,
                         *           "likes": 0,
                         *           "reply_count": 0,
                         *           "time_refs": [
                         *             42
                         *           ],
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "edited": null
                         *         }
                         *       ]
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** Format: uuid */
                            video_id: string;
                            /**
                             * Format: uuid
                             * @description the top-level comment a reply belongs to
                             */
                            parent_id: string | null;
                            author: {
                                /** Format: uuid */
                                id: string;
                                username: string;
                                /** @description 64 px avatar, an absolute path */
                                avatar_url: string | null;
                            } | null;
                            /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                            text: string | null;
                            /** @description a deleted comment kept as a placeholder because it has replies */
                            deleted: boolean;
                            pinned: boolean;
                            likes: number;
                            reply_count: number;
                            /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                            time_refs: number[];
                            /** Format: date-time */
                            created: string;
                            /**
                             * Format: date-time
                             * @description when the author last edited it
                             */
                            edited: string | null;
                            /** @description the first 3 replies, oldest first (top-level comments only) */
                            replies: {
                                /** Format: uuid */
                                id: string;
                                /** Format: uuid */
                                video_id: string;
                                /**
                                 * Format: uuid
                                 * @description the top-level comment a reply belongs to
                                 */
                                parent_id: string | null;
                                author: {
                                    /** Format: uuid */
                                    id: string;
                                    username: string;
                                    /** @description 64 px avatar, an absolute path */
                                    avatar_url: string | null;
                                } | null;
                                /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                text: string | null;
                                /** @description a deleted comment kept as a placeholder because it has replies */
                                deleted: boolean;
                                pinned: boolean;
                                likes: number;
                                reply_count: number;
                                /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                time_refs: number[];
                                /** Format: date-time */
                                created: string;
                                /**
                                 * Format: date-time
                                 * @description when the author last edited it
                                 */
                                edited: string | null;
                            }[];
                        };
                    };
                };
                /** @description Only a top-level, not deleted comment can be pinned (`not_top_level`, `comment_deleted`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the video's owner (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /**
         * Unpin a comment (the video's owner)
         * @description Unpinning a comment that is not pinned changes nothing.
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
                /** @description A comment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "parent_id": null,
                         *       "author": {
                         *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *         "username": "bob",
                         *         "avatar_url": null
                         *       },
                         *       "text": "The drop at 1:23 <3",
                         *       "deleted": false,
                         *       "pinned": false,
                         *       "likes": 4,
                         *       "reply_count": 1,
                         *       "time_refs": [
                         *         83
                         *       ],
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "edited": null,
                         *       "replies": [
                         *         {
                         *           "id": "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
                         *           "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "parent_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *           "author": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "bob",
                         *             "avatar_url": null
                         *           },
                         *           "text": "Agreed, 0:42 too",
                         *           "deleted": false,
                         *           "pinned": false,
                         *           "likes": 0,
                         *           "reply_count": 0,
                         *           "time_refs": [
                         *             42
                         *           ],
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "edited": null
                         *         }
                         *       ]
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** Format: uuid */
                            video_id: string;
                            /**
                             * Format: uuid
                             * @description the top-level comment a reply belongs to
                             */
                            parent_id: string | null;
                            author: {
                                /** Format: uuid */
                                id: string;
                                username: string;
                                /** @description 64 px avatar, an absolute path */
                                avatar_url: string | null;
                            } | null;
                            /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                            text: string | null;
                            /** @description a deleted comment kept as a placeholder because it has replies */
                            deleted: boolean;
                            pinned: boolean;
                            likes: number;
                            reply_count: number;
                            /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                            time_refs: number[];
                            /** Format: date-time */
                            created: string;
                            /**
                             * Format: date-time
                             * @description when the author last edited it
                             */
                            edited: string | null;
                            /** @description the first 3 replies, oldest first (top-level comments only) */
                            replies: {
                                /** Format: uuid */
                                id: string;
                                /** Format: uuid */
                                video_id: string;
                                /**
                                 * Format: uuid
                                 * @description the top-level comment a reply belongs to
                                 */
                                parent_id: string | null;
                                author: {
                                    /** Format: uuid */
                                    id: string;
                                    username: string;
                                    /** @description 64 px avatar, an absolute path */
                                    avatar_url: string | null;
                                } | null;
                                /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                text: string | null;
                                /** @description a deleted comment kept as a placeholder because it has replies */
                                deleted: boolean;
                                pinned: boolean;
                                likes: number;
                                reply_count: number;
                                /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                time_refs: number[];
                                /** Format: date-time */
                                created: string;
                                /**
                                 * Format: date-time
                                 * @description when the author last edited it
                                 */
                                edited: string | null;
                            }[];
                        };
                    };
                };
                /** @description Only a top-level, not deleted comment can be pinned (`not_top_level`, `comment_deleted`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not the video's owner (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video or comment, or one the caller may not see (`video_not_found`, `comment_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/comments/{id}/report/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report a comment
         * @description Any signed-in account. 201 with the new report; 200 with the same report while yours on it is still open.
         */
        post: {
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
                    /**
                     * @example {
                     *       "reason": "spam",
                     *       "details": "Same link on every video"
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        reason: "spam" | "harassment" | "hate" | "violence" | "sexual" | "misinformation" | "copyright" | "other";
                        details?: string;
                    };
                };
            };
            responses: {
                /** @description Your open report on it, unchanged */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                         *       "target_kind": "comment",
                         *       "target_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "reason": "spam",
                         *       "details": null,
                         *       "status": "open",
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "resolved": null
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** @enum {string} */
                            target_kind: "comment" | "video";
                            /** Format: uuid */
                            target_id: string;
                            /** Format: uuid */
                            video_id: string;
                            reason: string;
                            details: string | null;
                            /** @enum {string} */
                            status: "open" | "dismissed" | "removed";
                            /** Format: date-time */
                            created: string;
                            /** Format: date-time */
                            resolved: string | null;
                        };
                    };
                };
                /** @description Reported */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                         *       "target_kind": "comment",
                         *       "target_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "reason": "spam",
                         *       "details": null,
                         *       "status": "open",
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "resolved": null
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** @enum {string} */
                            target_kind: "comment" | "video";
                            /** Format: uuid */
                            target_id: string;
                            /** Format: uuid */
                            video_id: string;
                            reason: string;
                            details: string | null;
                            /** @enum {string} */
                            status: "open" | "dismissed" | "removed";
                            /** Format: date-time */
                            created: string;
                            /** Format: date-time */
                            resolved: string | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such comment, or one the caller may not see */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is over 64 KB (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/videos/{id}/report/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report a video
         * @description Any signed-in account. 201 with the new report; 200 with the same report while yours on it is still open.
         */
        post: {
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
                    /**
                     * @example {
                     *       "reason": "spam",
                     *       "details": "Same link on every video"
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        reason: "spam" | "harassment" | "hate" | "violence" | "sexual" | "misinformation" | "copyright" | "other";
                        details?: string;
                    };
                };
            };
            responses: {
                /** @description Your open report on it, unchanged */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                         *       "target_kind": "comment",
                         *       "target_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "reason": "spam",
                         *       "details": null,
                         *       "status": "open",
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "resolved": null
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** @enum {string} */
                            target_kind: "comment" | "video";
                            /** Format: uuid */
                            target_id: string;
                            /** Format: uuid */
                            video_id: string;
                            reason: string;
                            details: string | null;
                            /** @enum {string} */
                            status: "open" | "dismissed" | "removed";
                            /** Format: date-time */
                            created: string;
                            /** Format: date-time */
                            resolved: string | null;
                        };
                    };
                };
                /** @description Reported */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                         *       "target_kind": "comment",
                         *       "target_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "reason": "spam",
                         *       "details": null,
                         *       "status": "open",
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "resolved": null
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** @enum {string} */
                            target_kind: "comment" | "video";
                            /** Format: uuid */
                            target_id: string;
                            /** Format: uuid */
                            video_id: string;
                            reason: string;
                            details: string | null;
                            /** @enum {string} */
                            status: "open" | "dismissed" | "removed";
                            /** Format: date-time */
                            created: string;
                            /** Format: date-time */
                            resolved: string | null;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is over 64 KB (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/moderation/reports/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Reports, newest first, with the reported content (moderators, admins)
         * @description `?status=` `open` (default), `dismissed` or `removed`.
         */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                    status?: "open" | "dismissed" | "removed";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of reports */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "results": [
                         *         {
                         *           "id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                         *           "target_kind": "comment",
                         *           "target_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *           "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *           "reason": "spam",
                         *           "details": null,
                         *           "status": "open",
                         *           "created": "2026-01-02T03:04:05.000Z",
                         *           "resolved": null,
                         *           "reporter": {
                         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *             "username": "carol"
                         *           },
                         *           "content": {
                         *             "video": {
                         *               "id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *               "title": "My trip",
                         *               "owner_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
                         *             },
                         *             "comment": {
                         *               "id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *               "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *               "parent_id": null,
                         *               "author": {
                         *                 "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *                 "username": "bob",
                         *                 "avatar_url": null
                         *               },
                         *               "text": "Agreed, 0:42 too",
                         *               "deleted": false,
                         *               "pinned": false,
                         *               "likes": 0,
                         *               "reply_count": 0,
                         *               "time_refs": [
                         *                 42
                         *               ],
                         *               "created": "2026-01-02T03:04:05.000Z",
                         *               "edited": null
                         *             }
                         *           }
                         *         }
                         *       ],
                         *       "next": "https://vidflux.example/api/moderation/reports/?cursor=eyJrZXkiOlsiMjAyNi0wMS0wMlQwMzowNDowNS4wMDBaIl0sImRpciI6Im4ifQ",
                         *       "previous": null
                         *     }
                         */
                        "application/json": {
                            results: {
                                /** Format: uuid */
                                id: string;
                                /** @enum {string} */
                                target_kind: "comment" | "video";
                                /** Format: uuid */
                                target_id: string;
                                /** Format: uuid */
                                video_id: string;
                                reason: string;
                                details: string | null;
                                /** @enum {string} */
                                status: "open" | "dismissed" | "removed";
                                /** Format: date-time */
                                created: string;
                                /** Format: date-time */
                                resolved: string | null;
                                reporter: {
                                    /** Format: uuid */
                                    id: string;
                                    username: string;
                                } | null;
                                content: {
                                    video: {
                                        /** Format: uuid */
                                        id: string;
                                        title: string;
                                        /** Format: uuid */
                                        owner_id: string;
                                    } | null;
                                    /**
                                     * @description A comment or reply, without its replies
                                     * @example {
                                     *       "id": "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
                                     *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                                     *       "parent_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                                     *       "author": {
                                     *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                                     *         "username": "bob",
                                     *         "avatar_url": null
                                     *       },
                                     *       "text": "Agreed, 0:42 too",
                                     *       "deleted": false,
                                     *       "pinned": false,
                                     *       "likes": 0,
                                     *       "reply_count": 0,
                                     *       "time_refs": [
                                     *         42
                                     *       ],
                                     *       "created": "2026-01-02T03:04:05.000Z",
                                     *       "edited": null
                                     *     }
                                     */
                                    comment: {
                                        /** Format: uuid */
                                        id: string;
                                        /** Format: uuid */
                                        video_id: string;
                                        /**
                                         * Format: uuid
                                         * @description the top-level comment a reply belongs to
                                         */
                                        parent_id: string | null;
                                        author: {
                                            /** Format: uuid */
                                            id: string;
                                            username: string;
                                            /** @description 64 px avatar, an absolute path */
                                            avatar_url: string | null;
                                        } | null;
                                        /** @description plain text exactly as written (trimmed); never HTML. null on a deleted placeholder */
                                        text: string | null;
                                        /** @description a deleted comment kept as a placeholder because it has replies */
                                        deleted: boolean;
                                        pinned: boolean;
                                        likes: number;
                                        reply_count: number;
                                        /** @description seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration */
                                        time_refs: number[];
                                        /** Format: date-time */
                                        created: string;
                                        /**
                                         * Format: date-time
                                         * @description when the author last edited it
                                         */
                                        edited: string | null;
                                    } | null;
                                };
                            }[];
                            /** @description the next page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            next: string | null;
                            /** @description the previous page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            previous: string | null;
                        };
                    };
                };
                /** @description Invalid query (`validation_error`, `invalid_cursor`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such report, comment, video or user (`report_not_found`, `comment_not_found`, `video_not_found`, `user_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/moderation/reports/{id}/resolve/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Resolve a report (moderators, admins)
         * @description `dismiss` closes it; `remove` deletes the comment or video and closes every open report on it.
         */
        post: {
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
                    /**
                     * @example {
                     *       "action": "remove"
                     *     }
                     */
                    "application/json": {
                        /**
                         * @description `remove` deletes the reported comment or video
                         * @enum {string}
                         */
                        action: "dismiss" | "remove";
                    };
                };
            };
            responses: {
                /** @description The resolved report */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                         *       "target_kind": "comment",
                         *       "target_id": "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11",
                         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *       "reason": "spam",
                         *       "details": null,
                         *       "status": "open",
                         *       "created": "2026-01-02T03:04:05.000Z",
                         *       "resolved": null
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            id: string;
                            /** @enum {string} */
                            target_kind: "comment" | "video";
                            /** Format: uuid */
                            target_id: string;
                            /** Format: uuid */
                            video_id: string;
                            reason: string;
                            details: string | null;
                            /** @enum {string} */
                            status: "open" | "dismissed" | "removed";
                            /** Format: date-time */
                            created: string;
                            /** Format: date-time */
                            resolved: string | null;
                        };
                    };
                };
                /** @description Already resolved (`report_resolved`) or invalid (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such report, comment, video or user (`report_not_found`, `comment_not_found`, `video_not_found`, `user_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/moderation/blocks/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Commenting blocks, newest first (moderators, admins) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of blocks */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "results": [
                         *         {
                         *           "user_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *           "username": "troll42",
                         *           "reason": "Repeated harassment",
                         *           "created": "2026-01-02T03:04:05.000Z"
                         *         }
                         *       ],
                         *       "next": "https://vidflux.example/api/moderation/blocks/?cursor=eyJrZXkiOlsiMjAyNi0wMS0wMlQwMzowNDowNS4wMDBaIl0sImRpciI6Im4ifQ",
                         *       "previous": null
                         *     }
                         */
                        "application/json": {
                            results: {
                                /** Format: uuid */
                                user_id: string;
                                /** @description null once the account is deleted */
                                username: string | null;
                                reason: string | null;
                                /** Format: date-time */
                                created: string;
                            }[];
                            /** @description the next page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            next: string | null;
                            /** @description the previous page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null */
                            previous: string | null;
                        };
                    };
                };
                /** @description Invalid query (`validation_error`, `invalid_cursor`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such report, comment, video or user (`report_not_found`, `comment_not_found`, `video_not_found`, `user_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Block a user from commenting anywhere (moderators, admins)
         * @description Their new comments get 403 `comment_blocked`; existing ones stay. Blocking again updates the reason.
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
                    /**
                     * @example {
                     *       "user_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                     *       "reason": "Repeated harassment"
                     *     }
                     */
                    "application/json": {
                        /** Format: uuid */
                        user_id: string;
                        reason?: string;
                    };
                };
            };
            responses: {
                /** @description Blocked (or the block's reason updated) */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "user_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                         *       "reason": "Repeated harassment",
                         *       "created": "2026-01-02T03:04:05.000Z"
                         *     }
                         */
                        "application/json": {
                            /** Format: uuid */
                            user_id: string;
                            reason: string | null;
                            /** Format: date-time */
                            created: string;
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such report, comment, video or user (`report_not_found`, `comment_not_found`, `video_not_found`, `user_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/moderation/blocks/{user_id}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Lift a commenting block */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Lifted (or there was none) */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such report, comment, video or user (`report_not_found`, `comment_not_found`, `video_not_found`, `user_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/me/hidden-commenters/{user_id}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Hide a user from your videos
         * @description Their comments disappear from your videos and new ones are refused (403 `comment_blocked`). Idempotent.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Hidden */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description You cannot hide yourself (`cannot_hide_self`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such user (`user_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        post?: never;
        /** Show a hidden user's comments on your videos again */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Shown again (or was not hidden) */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such user (`user_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/videos/{id}/live/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live comments and reaction counts of a video (Server-Sent Events)
         * @description `text/event-stream` for anyone who may see the video. `event:` is the type, `id:` the seq, `data:` the JSON event: `snapshot` `{likes, dislikes}` first; `comment` `{action: created|edited|deleted, comment}`; `reactions` `{likes, dislikes}`. Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get what was missed. Example message: `event: reactions` / `id: 7` / `data: {"type":"reactions","video_id":"…","seq":7,"at":"…","likes":12,"dislikes":1}`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Same as the Last-Event-ID header. */
                    last_event_id?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description An endless text/event-stream */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": string;
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/ws/stream/{video_id}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live playback control (WebSocket)
         * @description Send `Connection: Upgrade` + `Upgrade: websocket` (RFC 6455); the protocol is docs/playback.md. The server greets with `hello` (session, state, members); a device sends the control messages of `POST /api/stream/{video_id}/control/` as JSON text frames and every device of the session (or room) receives `state`, `presence`, `comment`, `reactions`; `switch` answers its sender's change_quality/change_lang. `token`: an access token or the video's playback token; `device`: this device's id; `room`: a watch room's code. Refusals are an `error` frame, then close 4400/4401/4403/4404 (4429 after repeated rate limiting, 1008). A plain GET gets 426.
         */
        get: {
            parameters: {
                query?: {
                    /** @description An access token, or the video's playback token (private videos). */
                    token?: string;
                    /** @description This device's id; random when absent (the answer says which). */
                    device?: string;
                    /** @description A watch room's code: join it instead of the personal session. */
                    room?: string;
                };
                header?: never;
                path: {
                    video_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Switching Protocols: the WebSocket is open (frames and close codes in the operation's and the tag's descriptions) */
                101: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The `Authorization` header is malformed or its token refused (other refusals come as close codes after the upgrade) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not a WebSocket upgrade request (`upgrade_required`, `Upgrade: websocket`) */
                426: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/stream/{video_id}/state/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A playback session's state (HTTP fallback; long polling with ?since=)
         * @description The state of the caller's session (`room` for a watch room), its members and this device. With `since`, the answer waits until the session's version passes it, or ~25 s (then the unchanged state): long polling. `token`: an access token or the video's playback token. Also registers this device as present for ~35 s.
         */
        get: {
            parameters: {
                query?: {
                    /** @description An access token, or the video's playback token (private videos). */
                    token?: string;
                    /** @description This device's id; random when absent (the answer says which). */
                    device?: string;
                    /** @description A watch room's code: join it instead of the personal session. */
                    room?: string;
                    /** @description Long poll: answer once the version passes this (or after ~25 s). */
                    since?: number;
                };
                header?: never;
                path: {
                    video_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The session's state, its members and this device */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PlaybackStateResponse"];
                    };
                };
                /** @description Invalid `token`, `device` or `room` (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The token does not give access to this video or room */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`); no such room (`room_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/stream/{video_id}/control/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a control message (HTTP fallback of the WebSocket)
         * @description The WebSocket's client messages as a JSON body: play, pause, seek, change_speed, change_quality, change_lang, buffering, ready, sync. Answers the session's new state (and, for change_quality/change_lang, the URLs to switch to). Errors: 400 (unknown_message, validation_error, position_out_of_range, speed_out_of_range, quality_unavailable, language_unavailable), 403 control_forbidden, 429 rate_limited.
         */
        post: {
            parameters: {
                query?: {
                    /** @description An access token, or the video's playback token (private videos). */
                    token?: string;
                    /** @description This device's id; random when absent (the answer says which). */
                    device?: string;
                    /** @description A watch room's code: join it instead of the personal session. */
                    room?: string;
                };
                header?: never;
                path: {
                    video_id: string;
                };
                cookie?: never;
            };
            /** @description A control message (the WebSocket frames' bodies). */
            requestBody: {
                content: {
                    "application/json": components["schemas"]["PlaybackControl"];
                };
            };
            responses: {
                /** @description The session's state after the message */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PlaybackControlResponse"];
                    };
                };
                /** @description `unknown_message`, `bad_message`, `validation_error`, `position_out_of_range`, `speed_out_of_range`, `quality_unavailable`, `language_unavailable` (entries name the message's field) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description `control_forbidden` (a room whose creator keeps control), or a playback token of another video */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`); no such room (`room_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description More control messages than PLAYBACK_CONTROL_RATE/BURST from this device (`rate_limited`, `{retry_after_s}`), or the address limit (`throttled`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/stream/{video_id}/events/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A playback session's frames as Server-Sent Events (HTTP fallback)
         * @description `text/event-stream` of the WebSocket's server frames: `event:` is the frame type (state, presence, comment, reactions), `data:` the frame JSON. Opens with the current `state` (with session and members). Control goes through `POST …/control/` with the same `device`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description An access token, or the video's playback token (private videos). */
                    token?: string;
                    /** @description This device's id; random when absent (the answer says which). */
                    device?: string;
                    /** @description A watch room's code: join it instead of the personal session. */
                    room?: string;
                };
                header?: never;
                path: {
                    video_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description An endless text/event-stream */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": string;
                    };
                };
                /** @description Invalid `token`, `device` or `room` (`validation_error`) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The token does not give access to this video or room */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`); no such room (`room_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/stream/{video_id}/rooms/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a watch room
         * @description A short code others join with `/ws/stream/{video_id}/?room=<code>` (or the HTTP fallback's `room`). `control: owner` keeps control to the creator.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    video_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    /**
                     * @example {
                     *       "control": "owner"
                     *     }
                     */
                    "application/json": {
                        /**
                         * @default everyone
                         * @enum {string}
                         */
                        control?: "everyone" | "owner";
                    };
                };
            };
            responses: {
                /** @description A watch room */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WatchRoom"];
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such video, or one the caller may not see (`video_not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
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
    "/api/stream/{video_id}/rooms/{code}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A watch room and who is in it */
        get: {
            parameters: {
                query?: {
                    /** @description An access token or the video's playback token. */
                    token?: string;
                };
                header?: never;
                path: {
                    video_id: string;
                    code: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A watch room */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WatchRoom"];
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description A token was sent but is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`); without one the call is anonymous */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The token does not give access to this video */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such room (`room_not_found`) or video */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * End a watch room (its creator, moderators, admins)
         * @description Every member's connection receives an error `room_ended` and is closed with 4404.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    video_id: string;
                    code: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Ended */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not its creator, a moderator or an admin (`permission_denied`) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such room (`room_not_found`) or video */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/me/history/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Continue watching: the videos I watched, latest first
         * @description Positions are saved while a personal session plays (about every 10 s) and on pause, seek and leave; a new session starts there.
         */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Continue watching, latest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        /**
                         * @example {
                         *       "count": 1,
                         *       "next": null,
                         *       "results": [
                         *         {
                         *           "video": {
                         *             "id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
                         *             "title": "My trip",
                         *             "duration": 62.5,
                         *             "poster": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/poster.jpg"
                         *           },
                         *           "position": 30.2,
                         *           "duration": 62.5,
                         *           "finished": false,
                         *           "updated": "2026-01-02T03:04:05.000Z"
                         *         }
                         *       ]
                         *     }
                         */
                        "application/json": {
                            count: number;
                            next: string | null;
                            results: components["schemas"]["HistoryItem"][];
                        };
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Clear my whole history */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Cleared */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/me/history/{video_id}/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove one video from my history */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    video_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not in the history (`not_found`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/me/history/settings/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether my history is paused */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Whether history is paused */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["HistorySettings"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        /** Pause or resume my history */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description Whether history is paused */
            requestBody: {
                content: {
                    "application/json": components["schemas"]["HistorySettings"];
                };
            };
            responses: {
                /** @description Whether history is paused */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["HistorySettings"];
                    };
                };
                /** @description Invalid input: `validation_error` with `{location, field, code, message}` entries, or `invalid_json` */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Not signed in (`not_authenticated`), or the token is invalid, expired or revoked (`token_invalid`, `token_expired`, `token_revoked`, `user_inactive`) */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is larger than the route accepts (`payload_too_large`) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body's Content-Type is not one the route reads (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Too many requests from this address (`throttled`, `details.retry_after_s`, `Retry-After`) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        post?: never;
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
        /**
         * @description Every error: a stable code, a human message, details that depend on the code.
         *
         *     | `details` | codes |
         *     |---|---|
         *     | `[{location, field, code, message}]` | `validation_error` (schema validation of the body, query, path and headers, upload metadata), and every code that blames one input: `invalid_cursor`, `file_required`, `invalid_language`, `invalid_username`, `invalid_email`, `wrong_password`, `password_*`, `username_taken`, `email_taken` (409), `refresh_required`, `reset_token_invalid`, `email_change_token_invalid`, `password_required`, `title_blank`, `invalid_poster_candidate`, `comment_empty`, `comment_too_long`, `invalid_text`, `invalid_parent`, `unknown_message`, `bad_message`, `cannot_hide_self`, `quality_unavailable`, `language_unavailable`, `position_out_of_range`, `speed_out_of_range`, the tus header codes (`invalid_upload_length`, `invalid_upload_offset`, `invalid_upload_metadata`, `invalid_checksum`, `invalid_upload_concat`, `missing_upload_length`, `defer_length_unsupported`, `partial_upload_incomplete`, `tus_version_unsupported` 412), and `unsupported_media_type` 415 (the `content-type` header) |
         *     | `{used, limit, requested}` | `quota_exceeded` (bytes; `requested` absent for a simple upload of unknown size) |
         *     | `{limit, requested}` | `too_large` (bytes; `requested` when the size is known) |
         *     | `{retry_after_s}` | `throttled`, `rate_limited` (fractional seconds), `subtitles_busy`, `upload_locked`; `too_many_uploads` adds `{used, limit}` when a count was reached |
         *     | `{queued, limit, retry_after_s}` | `conversion_queue_full` |
         *     | `{limit, cues}` | `too_many_cues` |
         *     | `{remaining}` | `upload_length_exceeded` (bytes the upload may still take) |
         *     | `{size}` | `range_not_satisfiable` (416, the file's size, also in `Content-Range: bytes *\/size`) |
         *     | `{offset}` | `offset_mismatch` (the upload's current offset, also in `Upload-Offset`) |
         *     | `{format, problems: [{line, message}]}` | `invalid_subtitles` |
         *     | `{width, height}` | `image_too_large` |
         *     | `{status}` | `not_converted` |
         *     | `{video_id}` | `upload_expired` and the refusal codes of a refused upload (`not_a_video`, `unsupported_container`, `empty_file`…) |
         *     | `{allow}` | `method_not_allowed` (405, also in `Allow`) |
         *     | `{origin}` | `cors_origin_denied` (403 to a CORS preflight from an origin not in CORS_ORIGINS) |
         *     | `{failing, checks}` | `not_ready` (503 from `/api/health/ready/`: the parts that do not answer, and every part's status) |
         *     | `null` | everything else: `not_found`, `*_not_found`, `not_authenticated`, `token_*`, `permission_denied`, `payload_too_large`, `invalid_json`, `invalid_utf8`, `invalid_preflight`, `unknown_method`, `upgrade_required`, `internal_error` (5xx never carry details)… |
         * @example {
         *       "error": {
         *         "code": "validation_error",
         *         "message": "Invalid input.",
         *         "details": [
         *           {
         *             "location": "body",
         *             "field": "title",
         *             "code": "max_length",
         *             "message": "must NOT have more than 200 characters"
         *           }
         *         ]
         *       }
         *     }
         */
        ErrorResponse: {
            error: {
                /** @description stable, snake_case: what a client switches on */
                code: string;
                /** @description for people; may change */
                message: string;
                /** @description Depends on the code (table in ErrorResponse's description). */
                details: ({
                    /**
                     * @description where the input was: Fastify's validation contexts, tus `metadata`, a control `message`'s fields, a `cookie`
                     * @enum {string}
                     */
                    location: "body" | "querystring" | "params" | "headers" | "metadata" | "message" | "cookie";
                    /** @description the field, dotted for nested ones (`chapters.2.title`), a header in lower case (`upload-length`) */
                    field: string;
                    /** @description stable: `required`, `type`, `format`, `min_length`, `max_length`, `minimum`, `maximum`, `pattern`, `enum`, `unknown_field`, `min_items`, `max_items`, … or the error's own code */
                    code: string;
                    /** @description for people */
                    message: string;
                } & {
                    [key: string]: unknown;
                })[] | (never | null) | ({
                    limit: number;
                    used?: number;
                    requested?: number;
                    /** @description seconds, as the Retry-After header (which rounds up) */
                    retry_after_s?: number;
                } & {
                    [key: string]: unknown;
                }) | {
                    [key: string]: unknown;
                };
            };
        };
        /**
         * @description A video
         * @example {
         *       "id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
         *       "title": "My trip",
         *       "description": "Day one, 0:42 the harbour",
         *       "owner": {
         *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
         *         "username": "alice",
         *         "display_name": "Alice"
         *       },
         *       "visibility": "public",
         *       "language": "en",
         *       "original_filename": "trip.mp4",
         *       "size_bytes": 31457280,
         *       "status": "ready",
         *       "playable": true,
         *       "failure_code": null,
         *       "failure_message": null,
         *       "progress": null,
         *       "created": "2026-01-02T03:04:05.000Z",
         *       "updated": "2026-01-02T03:04:05.000Z",
         *       "published": "2026-01-02T03:04:05.000Z",
         *       "views": 42,
         *       "likes": 12,
         *       "dislikes": 1,
         *       "my_reaction": null,
         *       "comments_enabled": true,
         *       "duration": 62.5,
         *       "hls_url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/master.m3u8",
         *       "playback_token": null,
         *       "formats": [
         *         {
         *           "quality": "480p",
         *           "width": 854,
         *           "height": 480,
         *           "bitrate": 1200000,
         *           "size_bytes": 9437184,
         *           "size": "9.0 MB",
         *           "mp4_url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/stream/480p/"
         *         },
         *         {
         *           "quality": "1080p",
         *           "width": 1920,
         *           "height": 1080,
         *           "bitrate": 5000000,
         *           "size_bytes": 39321600,
         *           "size": "37.5 MB",
         *           "mp4_url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/stream/1080p/"
         *         }
         *       ],
         *       "poster": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/poster.jpg",
         *       "thumbnails": {
         *         "poster": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/poster.jpg",
         *         "candidates": [
         *           "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/c0.jpg",
         *           "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/c1.jpg",
         *           "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/c2.jpg",
         *           "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/c3.jpg",
         *           "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/c4.jpg"
         *         ],
         *         "storyboard": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/storyboard.jpg",
         *         "storyboard_vtt": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/thumbs/storyboard.vtt"
         *       },
         *       "audio_tracks": [
         *         {
         *           "language": "en",
         *           "name": "English",
         *           "default": true,
         *           "url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/audio_0/index.m3u8"
         *         },
         *         {
         *           "language": "fr",
         *           "name": "Français",
         *           "default": false,
         *           "url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/audio_1/index.m3u8"
         *         }
         *       ],
         *       "subtitles": [
         *         {
         *           "lang": "en",
         *           "name": "English",
         *           "url": "/api/videos/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/hls/subs_en/index.vtt",
         *           "source": "upload"
         *         }
         *       ],
         *       "chapters": [
         *         {
         *           "index": 0,
         *           "title": "Harbour",
         *           "start": 0,
         *           "end": 30
         *         },
         *         {
         *           "index": 1,
         *           "title": "Market",
         *           "start": 30,
         *           "end": 62.5
         *         }
         *       ],
         *       "info": {
         *         "size_bytes": 31457280,
         *         "size": "30.0 MB",
         *         "duration_seconds": 62.5,
         *         "duration": "1:02",
         *         "languages": [
         *           "en",
         *           "fr"
         *         ],
         *         "subtitle_languages": [
         *           "en"
         *         ],
         *         "has_subtitles": true,
         *         "container": "mp4",
         *         "video_codec": "h264",
         *         "width": 1920,
         *         "height": 1080,
         *         "fps": 30,
         *         "bitrate": 4026531,
         *         "renditions": [
         *           {
         *             "quality": "480p",
         *             "width": 854,
         *             "height": 480,
         *             "bitrate": 1200000,
         *             "size_bytes": 9437184,
         *             "size": "9.0 MB"
         *           },
         *           {
         *             "quality": "1080p",
         *             "width": 1920,
         *             "height": 1080,
         *             "bitrate": 5000000,
         *             "size_bytes": 39321600,
         *             "size": "37.5 MB"
         *           }
         *         ]
         *       }
         *     }
         */
        VideoDetail: {
            /** Format: uuid */
            id: string;
            title: string;
            description: string;
            owner: {
                id: string;
                username: string;
                display_name: string;
            };
            /** @enum {string} */
            visibility: "public" | "unlisted" | "private";
            language: string | null;
            original_filename: string;
            size_bytes: number;
            /** @enum {string} */
            status: "uploading" | "validating" | "queued" | "processing" | "ready" | "failed";
            playable: boolean;
            failure_code: string | null;
            failure_message: string | null;
            progress: {
                step: string;
                percent: number;
                bytes_received: number | null;
                eta_s: number | null;
                queue_position: number | null;
            } | null;
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            updated: string;
            /** Format: date-time */
            published: string | null;
            views: number;
            likes: number;
            dislikes: number;
            /** @enum {string|null} */
            my_reaction: "like" | "dislike" | null;
            comments_enabled: boolean;
            duration: number | null;
            hls_url: string | null;
            playback_token: string | null;
            formats: {
                quality: string;
                width: number;
                height: number;
                bitrate: number;
                size_bytes: number;
                size: string;
                mp4_url: string | null;
            }[];
            poster: string | null;
            thumbnails: {
                poster: string | null;
                candidates: string[];
                storyboard: string | null;
                storyboard_vtt: string | null;
            };
            audio_tracks: {
                language: string;
                name: string;
                default: boolean;
                url: string;
            }[];
            subtitles: {
                /** @description BCP 47 short form (`fr`) */
                lang: string;
                /** @description the language's own name */
                name: string;
                /** @description the WebVTT file (with the playback token for private videos) */
                url: string;
                /** @description from the uploaded file's streams, or uploaded since */
                source: "source" | "upload";
            }[];
            chapters: {
                index: number;
                title: string;
                start: number;
                end: number;
            }[];
            /**
             * @description Size, duration, languages, codecs and renditions
             * @example {
             *       "size_bytes": 31457280,
             *       "size": "30.0 MB",
             *       "duration_seconds": 62.5,
             *       "duration": "1:02",
             *       "languages": [
             *         "en",
             *         "fr"
             *       ],
             *       "subtitle_languages": [
             *         "en"
             *       ],
             *       "has_subtitles": true,
             *       "container": "mp4",
             *       "video_codec": "h264",
             *       "width": 1920,
             *       "height": 1080,
             *       "fps": 30,
             *       "bitrate": 4026531,
             *       "renditions": [
             *         {
             *           "quality": "480p",
             *           "width": 854,
             *           "height": 480,
             *           "bitrate": 1200000,
             *           "size_bytes": 9437184,
             *           "size": "9.0 MB"
             *         },
             *         {
             *           "quality": "1080p",
             *           "width": 1920,
             *           "height": 1080,
             *           "bitrate": 5000000,
             *           "size_bytes": 39321600,
             *           "size": "37.5 MB"
             *         }
             *       ]
             *     }
             */
            info: {
                size_bytes: number;
                size: string;
                duration_seconds: number | null;
                duration: string | null;
                languages: string[];
                subtitle_languages: string[];
                has_subtitles: boolean;
                container: string | null;
                video_codec: string | null;
                width: number | null;
                height: number | null;
                fps: number | null;
                bitrate: number | null;
                renditions: {
                    quality: string;
                    width: number;
                    height: number;
                    bitrate: number;
                    size_bytes: number;
                    size: string;
                }[];
            };
        };
        /**
         * @description The session's state, its members and this device
         * @example {
         *       "type": "state",
         *       "state": {
         *         "status": "playing",
         *         "playing": true,
         *         "position": 81.5,
         *         "speed": 1,
         *         "quality": "auto",
         *         "audio_lang": "en",
         *         "audio_track": "a0",
         *         "subtitle_lang": null,
         *         "version": 2,
         *         "updated_at": "2026-01-02T03:04:05.000Z",
         *         "server_time": 1767323045000,
         *         "waiting_for": []
         *       },
         *       "session": {
         *         "kind": "personal",
         *         "room": null,
         *         "device": "tv",
         *         "can_control": true
         *       },
         *       "members": [
         *         {
         *           "device": "tv",
         *           "user": {
         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
         *             "username": "alice"
         *           },
         *           "transport": "ws",
         *           "buffering": false,
         *           "can_control": true
         *         }
         *       ],
         *       "member_count": 1,
         *       "by": null
         *     }
         */
        PlaybackStateResponse: {
            /** @enum {string} */
            type: "state";
            state: components["schemas"]["PlaybackState"];
            session: {
                /** @enum {string} */
                kind: "personal" | "room";
                room: string | null;
                device: string;
                can_control: boolean;
            };
            /** @description Up to 100 members, those buffering first. */
            members: {
                device: string;
                user: {
                    id: string;
                    username: string;
                } | null;
                /** @enum {string} */
                transport: "ws" | "http";
                buffering: boolean;
                can_control: boolean;
            }[];
            /** @description Everyone present. */
            member_count: number;
            by: string | null;
        };
        /**
         * @example {
         *       "status": "playing",
         *       "playing": true,
         *       "position": 81.5,
         *       "speed": 1,
         *       "quality": "auto",
         *       "audio_lang": "en",
         *       "audio_track": "a0",
         *       "subtitle_lang": null,
         *       "version": 2,
         *       "updated_at": "2026-01-02T03:04:05.000Z",
         *       "server_time": 1767323045000,
         *       "waiting_for": []
         *     }
         */
        PlaybackState: {
            /** @enum {string} */
            status: "idle" | "waiting" | "paused" | "playing";
            playing: boolean;
            /** @description Seconds, as of `server_time` (extrapolated while playing). */
            position: number;
            speed: number;
            quality: string;
            audio_lang: string | null;
            /** @description The audio track's id (two tracks may share a language). */
            audio_track: string | null;
            subtitle_lang: string | null;
            version: number;
            /** Format: date-time */
            updated_at: string;
            /** @description Server clock, ms since the epoch, at which `position` was computed. */
            server_time: number;
            /** @description While `waiting`: the devices not ready yet. */
            waiting_for: string[];
        };
        /**
         * @description A control message (the WebSocket frames' bodies).
         * @example {
         *       "type": "seek",
         *       "position": 81.5
         *     }
         */
        PlaybackControl: {
            /** @enum {string} */
            type: "play";
        } | {
            /** @enum {string} */
            type: "pause";
        } | {
            /** @enum {string} */
            type: "seek";
            /** @description Seconds from the start. */
            position: number;
        } | {
            /** @enum {string} */
            type: "change_speed";
            /** @description 0.25 to 4. */
            speed: number;
        } | {
            /** @enum {string} */
            type: "change_quality";
            /** @description `auto` or a rung of the video (`480p`). */
            quality: string;
            /** @description `session` (default): what every device plays; `device`: the sender only. */
            scope?: "session" | "device";
        } | {
            /** @enum {string} */
            type: "change_lang";
            /** @description A language (`fr`, `fra`, `fre`), or an audio track's id or name. */
            audio?: string;
            /** @description A subtitle language, `off` or null for none. */
            subtitles?: string | null;
        } | {
            /** @enum {string} */
            type: "buffering";
        } | {
            /** @enum {string} */
            type: "ready";
        } | {
            /** @enum {string} */
            type: "sync";
        };
        /**
         * @description The session's state after the message
         * @example {
         *       "type": "state",
         *       "state": {
         *         "status": "playing",
         *         "playing": true,
         *         "position": 81.5,
         *         "speed": 1,
         *         "quality": "auto",
         *         "audio_lang": "en",
         *         "audio_track": "a0",
         *         "subtitle_lang": null,
         *         "version": 2,
         *         "updated_at": "2026-01-02T03:04:05.000Z",
         *         "server_time": 1767323045000,
         *         "waiting_for": []
         *       },
         *       "by": "phone",
         *       "version": 2
         *     }
         */
        PlaybackControlResponse: {
            /** @enum {string} */
            type: "state";
            state: components["schemas"]["PlaybackState"];
            by: string | null;
            version: number;
            switch?: components["schemas"]["PlaybackSwitch"];
        };
        /** @description Where the sender switches to after change_quality / change_lang (tokenized for private videos). */
        PlaybackSwitch: {
            quality: string;
            /** @description The rung's media playlist (null for `auto`: the master). */
            playlist_url: string | null;
            /** @description The master playlist. */
            hls_url: string;
            mp4_url: string | null;
            audio: {
                id: string;
                language: string;
                name: string;
                url: string;
            } | null;
            subtitles: {
                lang: string;
                name: string;
                url: string;
            } | null;
        };
        /**
         * @description A watch room
         * @example {
         *       "code": "K7QX2M",
         *       "video_id": "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52",
         *       "created_by": {
         *         "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
         *         "username": "alice"
         *       },
         *       "control": "everyone",
         *       "created": "2026-01-02T03:04:05.000Z",
         *       "members": [
         *         {
         *           "device": "tv",
         *           "user": {
         *             "id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
         *             "username": "alice"
         *           },
         *           "transport": "ws",
         *           "buffering": false,
         *           "can_control": true
         *         }
         *       ],
         *       "count": 1,
         *       "ws_url": "/ws/stream/5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52/?room=K7QX2M"
         *     }
         */
        WatchRoom: {
            code: string;
            video_id: string;
            created_by: {
                id: string;
                username: string;
            };
            /**
             * @description `owner`: only the creator's devices control playback.
             * @enum {string}
             */
            control: "everyone" | "owner";
            /** Format: date-time */
            created: string;
            /** @description Up to 100 members, those buffering first. */
            members: {
                device: string;
                user: {
                    id: string;
                    username: string;
                } | null;
                /** @enum {string} */
                transport: "ws" | "http";
                buffering: boolean;
                can_control: boolean;
            }[];
            /** @description Everyone present. */
            count: number;
            ws_url: string;
        };
        HistoryItem: {
            video: {
                id: string;
                title: string;
                duration: number | null;
                poster: string | null;
            };
            position: number;
            duration: number | null;
            finished: boolean;
            /** Format: date-time */
            updated: string;
        };
        /**
         * @description Whether history is paused
         * @example {
         *       "paused": false
         *     }
         */
        HistorySettings: {
            /** @description While true, no position is recorded. */
            paused: boolean;
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
