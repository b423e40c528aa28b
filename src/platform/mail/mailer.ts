/**
 * Outgoing email port, like Django's email backends: `console` (default; prints each message to
 * stdout), `file` (one .eml per message in EMAIL_FILE_PATH; tests read them) and `smtp`
 * (nodemailer). Messages are plain text: the only mail vidflux sends is account mail.
 */
import nodemailer from "nodemailer";

export interface MailMessage {
  to: string | string[];
  subject: string;
  text: string;
  /** Overrides DEFAULT_FROM_EMAIL. */
  from?: string;
}

export interface Mailer {
  readonly kind: "console" | "file" | "smtp";
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

// One renderer for the console and file backends, so both produce the exact RFC 5322 bytes an
// SMTP server would receive (encoded headers, quoted-printable bodies, Message-ID, Date).
const renderer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });

/** The message as an RFC 5322 document. */
export async function renderMessage(defaultFrom: string, message: MailMessage): Promise<Buffer> {
  const info = await renderer.sendMail({
    from: message.from ?? defaultFrom,
    to: message.to,
    subject: message.subject,
    text: message.text,
  });
  return info.message as Buffer;
}
