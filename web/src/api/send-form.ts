/**
 * multipart/form-data calls (avatars, subtitle files) with the session's bearer token. The typed
 * `api()` helper speaks JSON only; this is its counterpart for a FormData body, with the same
 * refresh once on 401 and the same ApiError for a refusal.
 */
import type { ErrorBody } from "../../../src/apps/web/api-client.types.js";
import { ApiError, buildUrl } from "./client.js";
import { accessToken, freshToken, refreshSession } from "./session.js";

export async function sendForm<T>(method: "PUT" | "POST", template: string, params: Record<string, string>, form: FormData): Promise<T> {
  const url = buildUrl(template, params);
  const send = async () => {
    const token = await freshToken();
    // No content-type: the browser writes the multipart boundary itself.
    return fetch(url, { method, body: form, credentials: "same-origin", headers: token ? { authorization: `Bearer ${token}` } : {} });
  };
  let res: Response;
  try {
    res = await send();
    if (res.status === 401 && accessToken.value && (await refreshSession())) res = await send();
  } catch {
    throw new ApiError(0, null);
  }
  const data: unknown = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data as Partial<ErrorBody> | null);
  return data as T;
}
