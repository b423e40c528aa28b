/**
 * The shell: header with navigation (what the role allows), the routed page, and a live region
 * for announcements. Pages are code-split by route so the catalogue loads without the player.
 */
import type { ComponentType } from "preact";
import { lazy, Suspense } from "preact/compat";
import { can, me, sessionReady, signOut } from "./api/session.js";
import { href, navigate, route } from "./router.js";
import { Loading } from "./ui/components.js";

type PageProps = { parts: string[]; query: URLSearchParams };
const page = (load: () => Promise<{ default: ComponentType<PageProps> }>) => lazy(load);

/** `#/<first part>` → page. Unknown paths show the not-found page. */
const PAGES: Record<string, ComponentType<PageProps>> = {
  "": page(() => import("./pages/catalogue.page.js")),
  watch: page(() => import("./pages/watch.page.js")),
  login: page(() => import("./pages/login.page.js")),
  register: page(() => import("./pages/register.page.js")),
  reset: page(() => import("./pages/reset.page.js")),
  "confirm-email": page(() => import("./pages/confirm-email.page.js")),
  profile: page(() => import("./pages/profile.page.js")),
  upload: page(() => import("./pages/upload.page.js")),
  "my-videos": page(() => import("./pages/my-videos.page.js")),
  history: page(() => import("./pages/history.page.js")),
  moderation: page(() => import("./pages/moderation.page.js")),
  admin: page(() => import("./pages/admin.page.js")),
};

function NotFound() {
  return (
    <section class="page">
      <h1>Page not found</h1>
      <p>
        <a href="#/">Back to the catalogue</a>
      </p>
    </section>
  );
}

function Nav() {
  const user = me.value;
  const current = route.value.parts[0] ?? "";
  const link = (to: string, text: string) => (
    <li>
      <a href={href(to)} aria-current={current === to ? "page" : undefined}>
        {text}
      </a>
    </li>
  );
  return (
    <nav aria-label="Main">
      <ul>
        <li>
          <a href="#/" aria-current={current === "" ? "page" : undefined}>
            Videos
          </a>
        </li>
        {user && link("history", "History")}
        {user && can("upload") && link("upload", "Upload")}
        {user && can("upload") && link("my-videos", "My videos")}
        {user && can("moderate") && link("moderation", "Moderation")}
        {user && can("admin") && link("admin", "Admin")}
      </ul>
      <ul class="nav-account">
        {user ? (
          <>
            {link("profile", user.display_name || user.username)}
            <li>
              <button
                type="button"
                class="link"
                onClick={async () => {
                  await signOut();
                  navigate("#/");
                }}
              >
                Sign out
              </button>
            </li>
          </>
        ) : (
          <>
            {link("login", "Sign in")}
            {link("register", "Sign up")}
          </>
        )}
      </ul>
    </nav>
  );
}

export function App() {
  const r = route.value;
  const Current = PAGES[r.parts[0] ?? ""] ?? NotFound;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          vidflux
        </a>
        <Nav />
      </header>
      <main id="main" tabIndex={-1}>
        {sessionReady.value ? (
          <Suspense fallback={<Loading />}>
            <Current parts={r.parts.slice(1)} query={r.query} key={r.parts.join("/")} />
          </Suspense>
        ) : (
          <Loading />
        )}
      </main>
    </>
  );
}
