/**
 * JWTs with jose. Access tokens are short (15 min), carry the user's `token_version` (a password
 * change or a deactivation kills them all at once) and name their session: `sid` is the refresh
 * token family they were issued with, and the auth guard refuses them as soon as that family is
 * revoked (logout, reuse detection), not 15 minutes later. Refresh tokens are JWTs of type
 * `refresh` whose `jti` is a row in `refresh_tokens` (rotation and family revocation live in
 * the auth service). HS256 by default; RS256/EdDSA with key files. Every token must carry `exp`:
 * jose accepts a token without one as never expiring unless told otherwise.
 */
import { readFileSync } from "node:fs";
import { SignJWT, jwtVerify, importPKCS8, importSPKI, errors as joseErrors, type JWTPayload, type CryptoKey } from "jose";
import { resolveJwtSecret, type Config } from "../../config.js";
import { unauthorized } from "../../lib/errors.js";

export type TokenType = "access" | "refresh";

export interface AccessClaims {
  sub: string;
  ver: number;
  /** the session: the refresh-token family the token was issued with */
  sid: string;
  typ: "access";
}

export interface RefreshClaims {
  sub: string;
  jti: string;
  fam: string;
  typ: "refresh";
}

type Key = CryptoKey | Uint8Array;

/** Claims a token of each kind must carry besides `exp`, `sub` and `typ`; without them it is refused. */
const KIND_CLAIMS: Record<TokenType, Record<string, "string" | "number">> = { access: { sid: "string", ver: "number" }, refresh: { jti: "string", fam: "string" } };

export class TokenService {
  private constructor(
    private readonly alg: string,
    private readonly signKey: Key,
    private readonly verifyKey: Key,
    readonly accessTtlS: number,
    readonly refreshTtlS: number,
  ) {}

  static async create(config: Config): Promise<TokenService> {
    const a = config.auth;
    if (a.jwtAlg === "HS256") {
      const secret = new TextEncoder().encode(resolveJwtSecret(config));
      return new TokenService("HS256", secret, secret, a.accessTtlS, a.refreshTtlS);
    }
    const priv = await importPKCS8(readFileSync(a.jwtPrivateKeyFile!, "utf8"), a.jwtAlg);
    const pub = await importSPKI(readFileSync(a.jwtPublicKeyFile!, "utf8"), a.jwtAlg);
    return new TokenService(a.jwtAlg, priv, pub, a.accessTtlS, a.refreshTtlS);
  }

  async signAccess(userId: string, tokenVersion: number, sessionId: string): Promise<string> {
    return new SignJWT({ ver: tokenVersion, sid: sessionId, typ: "access" })
      .setProtectedHeader({ alg: this.alg, typ: "JWT" })
      .setSubject(userId)
      .setIssuedAt()
      .setIssuer("vidflux")
      .setExpirationTime(`${this.accessTtlS}s`)
      .sign(this.signKey);
  }

  async signRefresh(userId: string, jti: string, familyId: string): Promise<string> {
    return new SignJWT({ fam: familyId, typ: "refresh" })
      .setProtectedHeader({ alg: this.alg, typ: "JWT" })
      .setSubject(userId)
      .setJti(jti)
      .setIssuedAt()
      .setIssuer("vidflux")
      .setExpirationTime(`${this.refreshTtlS}s`)
      .sign(this.signKey);
  }

  /** Signs an arbitrary short-lived claim set (playback tokens, etc.) with the same key. */
  async signClaims(claims: JWTPayload, ttlS: number): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.alg, typ: "JWT" })
      .setIssuedAt()
      .setIssuer("vidflux")
      .setExpirationTime(`${ttlS}s`)
      .sign(this.signKey);
  }

  /**
   * Verifies signature, algorithm (pinned: `alg: none` and algorithm confusion are refused by
   * jose when `algorithms` is given), issuer and expiry (required: a token without `exp` would
   * otherwise never expire), the kind's claims, then the token type.
   */
  async verify<T extends TokenType>(token: string, type: T): Promise<T extends "access" ? AccessClaims : RefreshClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.verifyKey, { algorithms: [this.alg], issuer: "vidflux", requiredClaims: ["exp"] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized("token_expired", "The token has expired.");
      throw unauthorized("token_invalid", "The token is invalid.");
    }
    if (payload.typ !== type || typeof payload.sub !== "string") {
      throw unauthorized("token_wrong_type", `A ${type} token is required.`);
    }
    for (const [claim, kind] of Object.entries(KIND_CLAIMS[type])) {
      if (typeof payload[claim] !== kind) throw unauthorized("token_invalid", "The token is invalid.");
    }
    return payload as unknown as T extends "access" ? AccessClaims : RefreshClaims;
  }

  /** Verifies a token of any custom claim set (which must expire); used by playback tokens. */
  async verifyClaims(token: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.verifyKey, { algorithms: [this.alg], issuer: "vidflux", requiredClaims: ["exp"] });
    return payload;
  }
}
