import type { Logger } from "pino";
import type { Config } from "../../config.js";
import { ConsoleMailer } from "./console.mailer.js";
import { FileMailer } from "./file.mailer.js";
import type { Mailer } from "./mailer.js";

/** Picks the email backend from EMAIL_BACKEND (console by default, as Django's development default). */
/** Async: nodemailer is imported only for the SMTP backend. */
export async function createMailer(config: Config, logger: Logger): Promise<Mailer> {
  const { email } = config;
  switch (email.backend) {
    case "console":
      // The console backend prints password-reset tokens to stdout: fine on a laptop, a leak in production logs.
      if (config.nodeEnv === "production") logger.warn("EMAIL_BACKEND=console in production: account emails are printed to stdout, not delivered");
      return new ConsoleMailer(email.from);
    case "file":
      return new FileMailer(email.fileDir, email.from);
    case "smtp": {
      const { SmtpMailer } = await import("./smtp.mailer.js");
      return new SmtpMailer(email.smtp, email.from);
    }
  }
}
