import type { Writable } from "node:stream";
import { renderMessage, type MailMessage, type Mailer } from "./mailer.js";

/** Writes every message to a stream (stdout by default), separated by a dashed line, like Django's console backend. */
export class ConsoleMailer implements Mailer {
  readonly kind = "console" as const;

  constructor(
    private readonly from: string,
    private readonly out: Writable = process.stdout,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const raw = await renderMessage(this.from, message);
    const text = `${raw.toString("utf8").trimEnd()}\n${"-".repeat(79)}\n`;
    await new Promise<void>((resolve, reject) => this.out.write(text, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {}
}
