/**
 * Creates an admin account, like Django's `createsuperuser`:
 *
 *   npm run createsuperuser -- --username alice --email alice@example.com [--password …]
 *
 * The password comes from --password, else VIDFLUX_SUPERUSER_PASSWORD, else a prompt (typed
 * twice; hidden on a terminal, read line by line from a pipe). The usual password rules apply.
 * Honours DATA_DIR / DATABASE_URL like the server and runs pending migrations first. Exits 1
 * with a one-line reason when anything is wrong (e.g. the username is taken).
 */
import { createInterface, type Interface } from "node:readline";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { openDb } from "../platform/db/db.js";
import { composeAdmin } from "../composition.js";
import { AppError } from "../lib/errors.js";
import { createAccount, passwordViolations, usernameKey, validEmail, validUsername } from "../apps/users/index.js";

const USAGE = "usage: createsuperuser --username NAME --email EMAIL [--password PASSWORD]";
const MAX_PROMPTS = 3;

export interface CliIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

class CliError extends Error {}

/** Reads a line without echoing it (raw mode), for passwords typed on a terminal. */
function readHidden(io: CliIo, prompt: string): Promise<string> {
  const { stdin, stdout } = io;
  // Raw mode before the prompt, so nothing typed right after it is echoed.
  stdin.setRawMode(true);
  stdout.write(prompt);
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      stdout.write("\n");
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          finish();
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          finish();
          reject(new CliError("interrupted"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else value += ch;
      }
    };
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** Line source for prompts: hidden on a TTY, plain lines from a pipe. */
class Prompter {
  private rl: Interface | null = null;
  private lines: AsyncIterator<string> | null = null;

  constructor(private readonly io: CliIo) {}

  get interactive(): boolean {
    return this.io.stdin.isTTY === true;
  }

  async password(prompt: string): Promise<string> {
    if (this.interactive) return readHidden(this.io, prompt);
    if (!this.lines) {
      this.rl = createInterface({ input: this.io.stdin, terminal: false });
      this.lines = this.rl[Symbol.asyncIterator]();
    }
    this.io.stdout.write(prompt);
    const next = await this.lines.next();
    this.io.stdout.write("\n");
    if (next.done) throw new CliError("no password given (stdin closed); use --password or VIDFLUX_SUPERUSER_PASSWORD");
    return next.value;
  }

  close(): void {
    this.rl?.close();
  }
}

function problems(password: string, username: string, email: string): string[] {
  return passwordViolations(password, { username, email }).map((v) => v.message);
}

async function choosePassword(config: Config, given: string | undefined, username: string, email: string, io: CliIo): Promise<string> {
  const fixed = given ?? config.auth.superuserPassword;
  if (fixed !== undefined) {
    const p = problems(fixed, username, email);
    if (p.length) throw new CliError(p.join(" "));
    return fixed;
  }
  const prompter = new Prompter(io);
  try {
    for (let attempt = 1; attempt <= MAX_PROMPTS; attempt++) {
      const password = await prompter.password("Password: ");
      const again = await prompter.password("Password (again): ");
      let error: string | null = null;
      if (password !== again) error = "Your passwords didn't match.";
      else if (password === "") error = "Blank passwords aren't allowed.";
      else error = problems(password, username, email).join(" ") || null;
      if (!error) return password;
      if (!prompter.interactive || attempt === MAX_PROMPTS) throw new CliError(error);
      io.stderr.write(`Error: ${error}\n`);
    }
    throw new CliError("no acceptable password given");
  } finally {
    prompter.close();
  }
}

export async function createSuperuser(argv: string[], io: CliIo): Promise<number> {
  let values: { username?: string | undefined; email?: string | undefined; password?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { username: { type: "string" }, email: { type: "string" }, password: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`Error: ${(err as Error).message}\n${USAGE}\n`);
    return 1;
  }
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.username || !values.email) {
    io.stderr.write(`Error: --username and --email are required.\n${USAGE}\n`);
    return 1;
  }

  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`Error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const db = await openDb(config.db);
  try {
    // The users domain's repository and hasher, from the composition root (the database only).
    const { repo, hasher } = composeAdmin({ db, config }).accounts;
    const username = validUsername(values.username);
    const email = validEmail(values.email);
    // Refuse before asking for a password, as Django does.
    if (await repo.usernameTaken(usernameKey(username))) throw new CliError("That username is already taken.");
    if (await repo.emailTaken(email)) throw new CliError("A user with that email already exists.");
    const password = await choosePassword(config, values.password, username, email, io);
    const row = await createAccount({ repo, hasher }, { username, email, password, role: "admin" });
    io.stdout.write(`Superuser "${row.username}" created successfully.\n`);
    return 0;
  } catch (err) {
    if (err instanceof CliError || err instanceof AppError) {
      io.stderr.write(`Error: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  createSuperuser(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
