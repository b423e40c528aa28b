/**
 * `npm run api:types`: regenerates src/apps/web/api.types.ts (openapi-typescript) from the
 * OpenAPI document of a throwaway app (SQLite in a temp dir, no services needed).
 */
import { writeFileSync } from "node:fs";
import { API_TYPES_FILE, renderApiTypes, withDocumentApp } from "../src/test/api-types.js";

const text = await withDocumentApp((app) => renderApiTypes({ app }));
writeFileSync(API_TYPES_FILE, text);
console.log(`wrote ${API_TYPES_FILE} (${text.split("\n").length} lines)`);
