/**
 * The Fastify instance as route modules see it: TypeBox schemas type `req.params`, `req.body` and
 * replies. It lives here, not in app.ts, so that route files never import the app builder (which
 * imports every domain): the type is a leaf every domain may use.
 */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;
