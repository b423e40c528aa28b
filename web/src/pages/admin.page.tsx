/**
 * Accounts, for admins (right `user:manage`): search, then change a role or the activation of
 * each account (`PATCH /api/users/{id}/`), e.g. to make a new account an uploader. The search
 * lives in the address (`#/admin?search=…`), so a reload or a shared link shows the same list.
 * More accounts load through the API's `next` links.
 */
import { useState } from "preact/hooks";
import { RequireRole } from "../account/guard.js";
import type { Paths } from "../api/client.js";
import { api, me } from "../api/session.js";
import { href, navigate } from "../router.js";
import { Empty, ErrorBox, Loading, Notice, Page } from "../ui/components.js";
import { usePaged } from "../ui/paged.js";
import { formatDate } from "../ui/format.js";

type UserPage = Paths["/api/users/"]["get"]["responses"][200]["content"]["application/json"];
type Account = UserPage["results"][number];
type Role = Account["role"];

const ROLES: [Role, string][] = [
  ["guest", "Guest (watch only)"],
  ["user", "User"],
  ["uploader", "Uploader"],
  ["moderator", "Moderator"],
  ["admin", "Admin"],
];

function AccountRow(props: { account: Account; onSaved: (a: Account) => void }) {
  const a = props.account;
  const [role, setRole] = useState<Role>(a.role);
  const [active, setActive] = useState(a.is_active);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const dirty = role !== a.role || active !== a.is_active;
  const self = a.id === me.value?.id;
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const body: { role?: Role; is_active?: boolean } = {};
      if (role !== a.role) body.role = role;
      if (active !== a.is_active) body.is_active = active;
      const updated = await api("patch", "/api/users/{id}/", { params: { id: a.id }, body });
      props.onSaved(updated);
      setRole(updated.role);
      setActive(updated.is_active);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const id = `account-${a.id}`;
  return (
    <tr role="row">
      <th scope="row" role="rowheader" id={`${id}-name`}>
        {a.username}
        {a.display_name && <div class="hint">{a.display_name}</div>}
        {self && <div class="hint">(you)</div>}
      </th>
      <td role="cell" data-label="Email">{a.email}</td>
      <td role="cell" data-label="Activity">
        <div class="hint">Joined {formatDate(a.date_joined)}</div>
        <div class="hint">{a.last_login ? `Last sign-in ${formatDate(a.last_login)}` : "Never signed in"}</div>
      </td>
      <td role="cell" data-label="Role and activation">
        {/* One form per row: the row's controls are saved together, by its own button. */}
        <form class="account-row-form" onSubmit={(e) => void save(e)} aria-labelledby={`${id}-name`}>
          <label for={`${id}-role`} class="visually-hidden">
            Role of {a.username}
          </label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map(([value, text]) => (
              <option value={value} key={value}>
                {text}
              </option>
            ))}
          </select>
          <label class="account-checkbox">
            <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} />
            Active<span class="visually-hidden"> ({a.username})</span>
          </label>
          {/* The hidden words tell a screen reader which row's Save this is; the visible name stays the start of it. */}
          <button type="submit" disabled={busy || !dirty}>
            {busy ? "Saving…" : "Save"}
            <span class="visually-hidden"> changes to {a.username}</span>
          </button>
        </form>
        {saved && (
          <Notice>
            Saved: {a.username} is {ROLES.find(([r]) => r === a.role)?.[1].toLowerCase() ?? a.role}
            {a.is_active ? "" : ", deactivated"}.
          </Notice>
        )}
        <ErrorBox error={error} />
      </td>
    </tr>
  );
}

function Accounts(props: { search: string }) {
  const list = usePaged(
    () => api("get", "/api/users/", { query: { search: props.search || undefined, limit: 50 } }),
    (url) => api("get", "/api/users/", { url }),
    [props.search],
  );
  const [query, setQuery] = useState(props.search);
  const { items: accounts, next } = list;
  const replace = (updated: Account) => list.patch((a) => (a.id === updated.id ? updated : a));

  return (
    <Page title="Accounts" wide>
      <form
        role="search"
        class="row account-search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(href("admin", { search: query.trim() }), { replace: true });
        }}
      >
        <label for="admin-search">Search accounts</label>
        <input id="admin-search" type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} aria-describedby="admin-search-hint" />
        <button type="submit">Search</button>
        <small id="admin-search-hint" class="hint">
          Part of a username, email address or display name.
        </small>
      </form>
      {list.loading && <Loading />}
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && accounts.length === 0 && <Empty>{props.search ? `No account matches “${props.search}”.` : "No accounts."}</Empty>}
      {accounts.length > 0 && (
        <div class="table-wrap">
          {/* Explicit roles: the phone layout stacks the cells (display: block), which would otherwise drop the table's semantics. */}
          <table class="account-table" role="table">
            <caption class="visually-hidden">Accounts{props.search ? ` matching “${props.search}”` : ""}, newest first</caption>
            <thead role="rowgroup">
              <tr role="row">
                <th scope="col" role="columnheader">Username</th>
                <th scope="col" role="columnheader">Email</th>
                <th scope="col" role="columnheader">Activity</th>
                <th scope="col" role="columnheader">Role and activation</th>
              </tr>
            </thead>
            <tbody role="rowgroup">
              {accounts.map((a) => (
                <AccountRow account={a} key={a.id} onSaved={replace} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorBox error={list.moreError} />
      {next && (
        <p>
          <button type="button" class="secondary" disabled={list.loadingMore} onClick={() => void list.loadMore()}>
            {list.loadingMore ? "Loading…" : "Load more accounts"}
          </button>
        </p>
      )}
    </Page>
  );
}

export default function AdminPage(props: { query: URLSearchParams }) {
  return (
    <RequireRole title="Accounts" right="admin">
      <Accounts search={props.query.get("search") ?? ""} />
    </RequireRole>
  );
}
