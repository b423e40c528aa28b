/**
 * argon2id password hashing (@node-rs/argon2, PHC strings). The cost comes from config
 * (`ARGON2_MEMORY_KIB`, `ARGON2_TIME_COST`, `ARGON2_PARALLELISM`; lowered under NODE_ENV=test).
 * Hashes made with other parameters still verify and are upgraded at the next login.
 */
import { hash, parseOptions, verify } from "@node-rs/argon2";
import type { Config } from "../../config.js";

export interface Argon2Cost {
  memoryCostKiB: number;
  timeCost: number;
  parallelism: number;
}

export class PasswordHasher {
  private dummyHash: Promise<string> | null = null;

  constructor(private readonly cost: Argon2Cost) {}

  static fromConfig(config: Config): PasswordHasher {
    return new PasswordHasher(config.auth.argon2);
  }

  hash(password: string): Promise<string> {
    // algorithm defaults to Argon2id (a const enum we cannot reference under isolated modules).
    return hash(password, { memoryCost: this.cost.memoryCostKiB, timeCost: this.cost.timeCost, parallelism: this.cost.parallelism });
  }

  /** False for a wrong password and for anything that is not an argon2 PHC string (e.g. an unusable "!" hash). */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    if (!passwordHash.startsWith("$argon2")) return false;
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  /**
   * Burns the same time as a real verification, for logins naming an unknown account: without
   * it the response time tells whether a username exists (Django's "run the hasher once" trick).
   */
  async verifyDummy(password: string): Promise<void> {
    this.dummyHash ??= this.hash("vidflux-dummy-password-for-timing");
    await this.verify(await this.dummyHash, password);
  }

  /** True when the hash was made with other parameters than today's (rehash after a successful login). */
  needsRehash(passwordHash: string): boolean {
    try {
      const o = parseOptions(passwordHash);
      return o.memoryCost !== this.cost.memoryCostKiB || o.timeCost !== this.cost.timeCost || o.parallelism !== this.cost.parallelism || o.algorithm !== 2;
    } catch {
      return true;
    }
  }
}
