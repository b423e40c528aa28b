import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors.js";
import { assertPasswordAcceptable, commonPasswordSet, passwordViolations, similarityRatio } from "./password-rules.js";

describe("similarityRatio (difflib.SequenceMatcher.ratio)", () => {
  // Expected values computed with CPython's difflib.
  it.each([
    ["alice123", "alice", 0.7692307692307693],
    ["abcd", "bcde", 0.75],
    ["password", "pass", 0.6666666666666666],
    ["qwertyuiop", "poiuytrewq", 0.1],
    ["tHe_QuIcK", "the quick", 0.4444444444444444],
    ["alicesmith", "smithalice", 0.5],
    ["johndoe2024", "john.doe@example.com", 0.45161290322580644],
    ["ab", "ba", 0.5],
    ["", "x", 0],
    ["zzzz", "abcd", 0],
  ])("ratio(%j, %j) = %d", (a, b, expected) => {
    expect(similarityRatio(a, b)).toBeCloseTo(expected, 12);
  });
});

describe("password rules", () => {
  const codes = (pw: string, attrs = {}) => passwordViolations(pw, attrs).map((v) => v.code);

  it("accepts a decent password", () => {
    expect(codes("correct-horse-battery-staple", { username: "alice", email: "alice@example.com" })).toEqual([]);
  });

  it("refuses short passwords, counting characters not UTF-16 units", () => {
    expect(codes("Ab3$xyz")).toEqual(["password_too_short"]);
    expect(codes("😀😀😀😀😀😀😀")).toEqual(["password_too_short"]);
    expect(codes("😀😀😀😀😀😀😀😀")).toEqual([]);
  });

  it("refuses entirely numeric passwords", () => {
    expect(codes("40958273618")).toEqual(["password_entirely_numeric"]);
  });

  it("refuses common passwords ignoring case and surrounding spaces", () => {
    expect(commonPasswordSet().size).toBeGreaterThan(1000);
    expect(codes("Password123")).toEqual(["password_too_common"]);
    expect(codes(" iloveyou1 ")).toEqual(["password_too_common"]);
    expect(codes("dragon2024")).toEqual(["password_too_common"]);
  });

  it("refuses passwords too similar to the username, email or its parts", () => {
    expect(codes("alice1234", { username: "Alice" })).toEqual(["password_too_similar"]);
    expect(codes("bobsmith!", { email: "bob.smith@example.com" })).toEqual(["password_too_similar"]);
    expect(codes("violet-umbrella-42", { username: "bob", email: "bob.smith@example.com" })).toEqual([]);
    expect(codes("bob.smith@example.co", { email: "bob.smith@example.com" })).toEqual(["password_too_similar"]);
    expect(codes("examplez", { email: "someone@example.com" })).toEqual(["password_too_similar"]);
    // Django skips values far shorter than the password.
    expect(codes("a-very-long-passphrase-with-al-inside", { username: "al" })).toEqual([]);
  });

  it("reports every failing rule, the first one naming the error", () => {
    expect(codes("12345678")).toEqual(["password_entirely_numeric", "password_too_common"]);
    try {
      assertPasswordAcceptable("123", {}, "new_password");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      const e = err as AppError;
      expect(e.status).toBe(400);
      expect(e.code).toBe("password_too_short");
      expect(e.details).toEqual([
        { location: "body", field: "new_password", code: "password_too_short", message: expect.any(String) },
        { location: "body", field: "new_password", code: "password_entirely_numeric", message: expect.any(String) },
      ]);
    }
  });
});
