import { mkdir, rename, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { renderMessage, type MailMessage, type Mailer } from "./mailer.js";

/**
 * One `.eml` file per message in a directory, like Django's filebased backend. Each file is
 * written under a dot-name and renamed into place, so a reader polling the directory (a test, a
 * developer's mail viewer) never sees a half-written message.
 */
export class FileMailer implements Mailer {
  readonly kind = "file" as const;

  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const raw = await renderMessage(this.from, message);
    await mkdir(this.dir, { recursive: true });
    // Timestamp first so `ls` lists messages in sending order; random suffix for uniqueness.
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.(\d+)Z$/, "$1Z");
    const name = `${stamp}-${randomBytes(6).toString("hex")}.eml`;
    const tmp = path.join(this.dir, `.${name}.tmp`);
    await writeFile(tmp, raw, { mode: 0o600 });
    await rename(tmp, path.join(this.dir, name));
  }

  async close(): Promise<void> {}
}
