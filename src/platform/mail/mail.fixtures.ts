/**
 * Test helpers for email: a minimal RFC 5322 reader for the single-part text messages vidflux
 * sends (headers unfolded, encoded-words and quoted-printable/base64 bodies decoded), and a tiny
 * in-process SMTP server that accepts one or more messages (enough for nodemailer's client).
 */
import { createServer, type AddressInfo, type Server } from "node:net";

export interface ParsedEmail {
  headers: Record<string, string>;
  text: string;
}

function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g, (_m, _charset: string, enc: string, data: string) =>
    enc.toUpperCase() === "B"
      ? Buffer.from(data, "base64").toString("utf8")
      : Buffer.from(data.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8"),
  );
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

export function parseEmail(raw: string): ParsedEmail {
  const normalized = raw.replace(/\r\n/g, "\n");
  const split = normalized.indexOf("\n\n");
  const head = split < 0 ? normalized : normalized.slice(0, split);
  const body = split < 0 ? "" : normalized.slice(split + 2);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  const enc = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const text = enc === "quoted-printable" ? decodeQuotedPrintable(body) : enc === "base64" ? Buffer.from(body, "base64").toString("utf8") : body;
  return { headers, text };
}

export interface TestSmtpServer {
  port: number;
  /** raw DATA of every accepted message */
  messages: { from: string; to: string[]; data: string }[];
  close(): Promise<void>;
}

/** Speaks just enough ESMTP (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for nodemailer, without TLS or AUTH. */
export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const messages: TestSmtpServer["messages"] = [];
  const server: Server = createServer((socket) => {
    let buffer = "";
    let inData = false;
    let from = "";
    let to: string[] = [];
    let data: string[] = [];
    socket.setEncoding("utf8");
    socket.write("220 test ESMTP\r\n");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            messages.push({ from, to, data: data.join("\r\n") });
            socket.write("250 OK queued\r\n");
          } else {
            data.push(line.startsWith("..") ? line.slice(1) : line);
          }
          continue;
        }
        const cmd = line.slice(0, 4).toUpperCase();
        const address = /<([^>]*)>/.exec(line)?.[1] ?? "";
        switch (cmd) {
          case "EHLO":
          case "HELO":
            socket.write("250-test\r\n250 8BITMIME\r\n");
            break;
          case "MAIL":
            from = address;
            to = [];
            socket.write("250 OK\r\n");
            break;
          case "RCPT":
            to.push(address);
            socket.write("250 OK\r\n");
            break;
          case "DATA":
            inData = true;
            data = [];
            socket.write("354 go ahead\r\n");
            break;
          case "RSET":
            from = "";
            to = [];
            socket.write("250 OK\r\n");
            break;
          case "NOOP":
            socket.write("250 OK\r\n");
            break;
          case "QUIT":
            socket.end("221 bye\r\n");
            break;
          default:
            socket.write("502 not implemented\r\n");
        }
      }
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
