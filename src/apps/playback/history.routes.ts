/** Continue watching over HTTP: the signed-in user's list, removal, and the pause setting. */
import type { App } from "../../lib/app.types.js";
import { NoContent, errors } from "../../lib/schemas.js";
import { currentUser } from "../users/index.js";
import type { HistoryService } from "./history.service.js";
import { HistoryPage, HistoryQuery, HistorySettings, HistoryVideoParams } from "./playback.schemas.js";

export async function historyRoutes(app: App, opts: { history: HistoryService }): Promise<void> {
  const { history } = opts;
  const auth = { auth: { required: true } };
  const common = { tags: ["playback"], security: [{ bearer: [] }] };
  app.get(
    "/api/users/me/history/",
    {
      config: auth,
      schema: {
        ...common,
        summary: "Continue watching: the videos I watched, latest first",
        description: "Positions are saved while a personal session plays (about every 10 s) and on pause, seek and leave; a new session starts there.",
        querystring: HistoryQuery,
        response: { 200: HistoryPage },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 20;
      const offset = req.query.offset ?? 0;
      const page = await history.list(currentUser(req), limit, offset);
      const next = offset + limit < page.count ? `/api/users/me/history/?limit=${limit}&offset=${offset + limit}` : null;
      return { count: page.count, next, results: page.results };
    },
  );
  app.delete(
    "/api/users/me/history/",
    { config: auth, schema: { ...common, summary: "Clear my whole history", response: { 204: NoContent("Cleared") } } },
    async (req, reply) => {
      await history.clear(currentUser(req).id);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    "/api/users/me/history/:video_id/",
    { config: auth, schema: { ...common, summary: "Remove one video from my history", params: HistoryVideoParams, response: { 204: NoContent("Removed"), ...errors([404, "Not in the history (`not_found`)"]) } } },
    async (req, reply) => {
      await history.remove(currentUser(req).id, req.params.video_id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    "/api/users/me/history/settings/",
    { config: auth, schema: { ...common, summary: "Whether my history is paused", response: { 200: HistorySettings } } },
    async (req) => ({ paused: await history.isPaused(currentUser(req).id) }),
  );
  app.put(
    "/api/users/me/history/settings/",
    { config: auth, schema: { ...common, summary: "Pause or resume my history", body: HistorySettings, response: { 200: HistorySettings } } },
    async (req) => history.setPaused(currentUser(req).id, req.body.paused),
  );
}
