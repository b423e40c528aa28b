/** The web domain's public face: the browser front end served at `/`. */
export { webRoutes, PUBLIC_DIR, VENDOR_FILES } from "./web.routes.js";
