/** Every domain's routes, registered in one place so a newcomer sees the whole API surface. */
import type { App } from "./app.js";
import type { AppContext } from "./context.js";

export async function registerAppRoutes(app: App, ctx: AppContext): Promise<void> {
  void app;
  void ctx;
}
