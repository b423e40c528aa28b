/** The web domain's public face: the browser front end (web/dist, built by Vite) served at `/`. */
export { webRoutes, WEB_DIST_DIR, type WebOptions } from "./web.routes.js";
