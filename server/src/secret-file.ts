import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Reads a secret kept in a file, creating it with 32 random bytes (base64url) on first use.
 *
 * Creation uses an exclusive open, so two processes that share a `DATA_DIR` and start at the
 * same moment still end up with one secret: the loser of the race reads the winner's file.
 * The file is readable by its owner only.
 */
export function loadOrCreateSecret(file: string): { secret: string; created: boolean } {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const secret = randomBytes(32).toString("base64url");
    fs.writeFileSync(file, secret + "\n", { flag: "wx", mode: 0o600 });
    return { secret, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  // The creator may not have finished writing; a secret is never shorter than 32 characters.
  for (let attempt = 0; ; attempt++) {
    const secret = fs.readFileSync(file, "utf8").trim();
    if (secret.length >= 32) return { secret, created: false };
    if (attempt > 100) throw new Error(`${file} holds no usable secret; delete it to have a new one generated`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}
