import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { ConsoleMailer } from "./console.mailer.js";
import { FileMailer } from "./file.mailer.js";
import { createMailer } from "./mailer.factory.js";
import { CONTRACT_FROM, mailerContract } from "./mailer.contract.js";
import { SmtpMailer } from "./smtp.mailer.js";
import { startTestSmtpServer } from "./mail.fixtures.js";

const SEPARATOR = `\n${"-".repeat(79)}\n`;

mailerContract("console", async () => {
  const out = new PassThrough();
  let captured = "";
  out.on("data", (c: Buffer) => (captured += c.toString("utf8")));
  return {
    mailer: new ConsoleMailer(CONTRACT_FROM, out),
    delivered: async () => captured.split(SEPARATOR).filter((s) => s.trim() !== ""),
    cleanup: async () => undefined,
  };
});

mailerContract("file", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "vidflux-mail-"));
  const outDir = path.join(dir, "emails");
  return {
    mailer: new FileMailer(outDir, CONTRACT_FROM),
    delivered: async () => {
      const files = readdirSync(outDir).sort();
      // a reader never sees a half-written message
      expect(files.every((f) => f.endsWith(".eml") && !f.startsWith("."))).toBe(true);
      return files.map((f) => readFileSync(path.join(outDir, f), "utf8"));
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

mailerContract("smtp", async () => {
  const server = await startTestSmtpServer();
  return {
    mailer: new SmtpMailer({ host: "127.0.0.1", port: server.port, secure: false }, CONTRACT_FROM),
    delivered: async () => server.messages.map((m) => m.data),
    cleanup: () => server.close(),
  };
});

describe("createMailer", () => {
  const logger = pino({ level: "silent" });
  it("picks the backend from EMAIL_BACKEND, console by default", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "vidflux-mail-"));
    try {
      expect((await createMailer(loadConfig({ DATA_DIR: dataDir }), logger)).kind).toBe("console");
      expect((await createMailer(loadConfig({ DATA_DIR: dataDir, EMAIL_BACKEND: "file" }), logger)).kind).toBe("file");
      expect((await createMailer(loadConfig({ DATA_DIR: dataDir, EMAIL_BACKEND: "smtp", SMTP_HOST: "mail.invalid" }), logger)).kind).toBe("smtp");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("delivers SMTP envelopes to every recipient", async () => {
    const server = await startTestSmtpServer();
    const config = loadConfig({ EMAIL_BACKEND: "smtp", SMTP_HOST: "127.0.0.1", SMTP_PORT: String(server.port), DEFAULT_FROM_EMAIL: "ops@vidflux.test" });
    const mailer = await createMailer(config, logger);
    try {
      await mailer.send({ to: ["x@example.com", "y@example.com"], subject: "hi", text: "hello" });
      expect(server.messages).toHaveLength(1);
      expect(server.messages[0]).toMatchObject({ from: "ops@vidflux.test", to: ["x@example.com", "y@example.com"] });
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it("surfaces SMTP failures to the caller", async () => {
    const server = await startTestSmtpServer();
    await server.close();
    const mailer = new SmtpMailer({ host: "127.0.0.1", port: server.port, secure: false }, CONTRACT_FROM);
    await expect(mailer.send({ to: "x@example.com", subject: "s", text: "t" })).rejects.toThrow();
    await mailer.close();
  });
});
