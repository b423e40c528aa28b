/**
 * Seams through which other domains plug into the users domain without the users domain importing
 * them: the videos domain reports how many bytes an account stores (`quota.used_bytes` in
 * `/api/users/me/`), and the videos and uploads domains remove an account's content when the
 * account is deleted. The composition root (src/composition.ts) registers both once, when it
 * builds the domains; the users domain only calls them.
 */

/** Bytes of stored content an account counts against its quota. */
export type QuotaUsedFn = (userId: string) => Promise<number>;

export interface AccountCleanup {
  /** Removes everything the account owns in this domain (rows and stored objects). Must be idempotent. */
  removeUserContent(userId: string): Promise<void>;
}

export class UserHooks {
  private quotaProvider: QuotaUsedFn | null = null;
  private readonly cleanups: AccountCleanup[] = [];

  /** Sets the quota provider (one per process: the videos domain). */
  provideQuotaUsed(fn: QuotaUsedFn): void {
    this.quotaProvider = fn;
  }

  /** 0 until a domain that stores content provides the function. */
  async quotaUsed(userId: string): Promise<number> {
    return this.quotaProvider ? this.quotaProvider(userId) : 0;
  }

  registerAccountCleanup(cleanup: AccountCleanup): void {
    this.cleanups.push(cleanup);
  }

  /** Runs every registered cleanup in registration order; the first failure stops and propagates. */
  async removeUserContent(userId: string): Promise<void> {
    for (const c of this.cleanups) await c.removeUserContent(userId);
  }
}
