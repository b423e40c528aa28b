/** Every route of the domain is in the OpenAPI document with its request, its answers and an example. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";

interface Operation {
  summary?: string;
  requestBody?: { content: Record<string, unknown> };
  parameters?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}

let h: Harness;
let paths: Record<string, Record<string, Operation>>;
beforeAll(async () => {
  h = await createHarness();
  paths = (JSON.parse((await h.app.inject({ url: "/api/schema/" })).body) as { paths: typeof paths }).paths;
});
afterAll(async () => h?.close());

const ROUTES: [string, string][] = [
  ["post", "/api/videos/{id}/like/"],
  ["delete", "/api/videos/{id}/like/"],
  ["post", "/api/videos/{id}/dislike/"],
  ["delete", "/api/videos/{id}/dislike/"],
  ["post", "/api/videos/{id}/comment/"],
  ["get", "/api/videos/{id}/comments/"],
  ["get", "/api/comments/{id}/replies/"],
  ["get", "/api/comments/"],
  ["patch", "/api/comments/{id}/"],
  ["delete", "/api/comments/{id}/"],
  ["post", "/api/comments/{id}/like/"],
  ["delete", "/api/comments/{id}/like/"],
  ["post", "/api/comments/{id}/pin/"],
  ["delete", "/api/comments/{id}/pin/"],
  ["post", "/api/comments/{id}/report/"],
  ["post", "/api/videos/{id}/report/"],
  ["get", "/api/moderation/reports/"],
  ["post", "/api/moderation/reports/{id}/resolve/"],
  ["post", "/api/moderation/blocks/"],
  ["get", "/api/moderation/blocks/"],
  ["delete", "/api/moderation/blocks/{user_id}/"],
  ["put", "/api/users/me/hidden-commenters/{user_id}/"],
  ["delete", "/api/users/me/hidden-commenters/{user_id}/"],
  ["get", "/api/videos/{id}/live/"],
];

describe("OpenAPI", () => {
  it.each(ROUTES)("%s %s is documented", (method, path) => {
    const op = paths[path]?.[method];
    expect(op, `${method} ${path}`).toBeDefined();
    expect(op!.summary).toBeTruthy();
    const codes = Object.keys(op!.responses);
    expect(codes.some((c) => c.startsWith("2"))).toBe(true);
    expect(codes.some((c) => c.startsWith("4"))).toBe(true);
    if (op!.requestBody) expect(JSON.stringify(op!.requestBody)).toMatch(/"examples?"/);
    // every answer with a JSON body names an example, or is the shared error body (its example is the component's)
    for (const [code, r] of Object.entries(op!.responses)) {
      const json = r.content?.["application/json"] as { schema?: { $ref?: string }; example?: unknown } | undefined;
      if (json && json.schema?.$ref !== "#/components/schemas/ErrorResponse") expect(json.example, `${method} ${path} ${code}`).toBeDefined();
    }
  });
});
