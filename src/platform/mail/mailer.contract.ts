/**
 * The one behaviour every Mailer backend must have, run against console, file and SMTP in
 * mailer.test.ts: what goes in comes out as a standard message (headers, recipients, unicode
 * subject and body, long lines intact after transfer decoding).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Mailer } from "./mailer.js";
import { parseEmail } from "./mail.fixtures.js";

export const CONTRACT_FROM = "vidflux test <no-reply@vidflux.test>";

export interface MailerUnderTest {
  mailer: Mailer;
  /** raw RFC 5322 messages delivered so far, in order */
  delivered(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export function mailerContract(name: string, make: () => Promise<MailerUnderTest>): void {
  describe(`Mailer contract: ${name}`, () => {
    let m: MailerUnderTest;
    beforeEach(async () => {
      m = await make();
    });
    afterEach(async () => {
      await m.mailer.close();
      await m.cleanup();
    });

    it("delivers one standard message with the default sender", async () => {
      const longLine = `token: ${"Ab9_-".repeat(30)} end`;
      await m.mailer.send({ to: "alice@example.com", subject: "Réinitialisation ✓ du mot de passe", text: `Bonjour Zoë 李,\n\n${longLine}\n\n— vidflux` });
      const raw = await m.delivered();
      expect(raw).toHaveLength(1);
      const mail = parseEmail(raw[0]!);
      expect(mail.headers.from).toBe(CONTRACT_FROM);
      expect(mail.headers.to).toBe("alice@example.com");
      expect(mail.headers.subject).toBe("Réinitialisation ✓ du mot de passe");
      expect(mail.headers["message-id"]).toMatch(/^<.+@.+>$/);
      expect(mail.headers.date).toBeTruthy();
      expect(mail.text).toContain("Bonjour Zoë 李,");
      expect(mail.text).toContain(longLine);
      expect(mail.text).toContain("— vidflux");
    });

    it("honours an explicit sender and several recipients, in sending order", async () => {
      await m.mailer.send({ to: ["a@example.com", "b@example.com"], subject: "first", text: "1", from: "Other <other@vidflux.test>" });
      await m.mailer.send({ to: "c@example.com", subject: "second", text: "2" });
      const mails = (await m.delivered()).map(parseEmail);
      expect(mails.map((x) => x.headers.subject)).toEqual(["first", "second"]);
      expect(mails[0]!.headers.from).toBe("Other <other@vidflux.test>");
      expect(mails[0]!.headers.to).toBe("a@example.com, b@example.com");
    });
  });
}
