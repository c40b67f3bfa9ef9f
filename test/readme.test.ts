import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import { api, ROOT, spawnServer, tempDir, waitFor } from "./support/harness.js";

/**
 * Keeps README.md true: its quick start runs as written against a real server, and its
 * configuration table names exactly the variables `server/src/config.ts` reads.
 */

const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
/** The address the README's blocks use; the test points them at the spawned server instead. */
const README_URL = "http://localhost:3000";

/** The fenced code blocks that follow `<!-- quickstart:<kind> -->`, in order. */
function markedBlocks(kind: "shell" | "node"): string[] {
  const pattern = new RegExp(`<!-- quickstart:${kind} -->\\s*\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``, "g");
  return [...README.matchAll(pattern)].map((m) => m[1]);
}

/** The body of the `## <title>` section, up to the next `## ` heading. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** Runs `bash -euo pipefail <script>` in `cwd` and resolves with its exit code and output. */
async function runBash(script: string, cwd: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn("bash", ["-euo", "pipefail", script], {
    cwd,
    // The script calls `node` by name: make sure it is the node running this test.
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a hung run is killed with every child (curl, node).
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  try {
    await waitFor(() => code !== undefined, "the quick start to finish", timeoutMs, 50);
  } catch (err) {
    process.kill(-child.pid!, "SIGKILL");
    await exited;
    throw new Error(`${(err as Error).message}; its output:\n${stdout}\n${stderr}`);
  }
  return { code: code ?? null, stdout, stderr };
}

describe("README.md", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("runs the quick start as written: HTTP setup, a Socket.IO reply, and both messages in the history with seq 1 and 2", async () => {
    const shellBlocks = markedBlocks("shell");
    const nodeBlocks = markedBlocks("node");
    expect(shellBlocks.length).toBeGreaterThanOrEqual(1);
    expect(nodeBlocks).toHaveLength(1);
    // Without the README's URL in them the substitution below would silently do nothing.
    expect(shellBlocks.join("\n")).toContain(README_URL);
    expect(nodeBlocks[0]).toContain(README_URL);
    expect(nodeBlocks[0]).toMatch(/from "socket\.io-client"/);

    // The server is started the way the README says, with the README's admin key.
    const adminKey = README.match(/ADMIN_API_KEY=(\S+) npm start/)?.[1];
    expect(adminKey, "README starts the server with ADMIN_API_KEY=<key> npm start").toBeDefined();
    expect(shellBlocks.join("\n")).toContain(adminKey!);

    const data = tempDir("switchboard-readme-data-");
    cleanups.push(data.remove);
    const server = await spawnServer(data.dir, { ADMIN_API_KEY: adminKey! });
    cleanups.push(() => server.kill("SIGKILL"));

    // The reader saves quickstart.mjs in the repository root, where socket.io-client is installed;
    // here a temp dir with a link to the root's node_modules resolves it the same way.
    const work = tempDir("switchboard-readme-");
    cleanups.push(work.remove);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work.dir, "node_modules"), "dir");
    fs.writeFileSync(path.join(work.dir, "quickstart.mjs"), nodeBlocks[0].replaceAll(README_URL, server.url));
    const script = path.join(work.dir, "quickstart.sh");
    fs.writeFileSync(script, shellBlocks.join("\n").replaceAll(README_URL, server.url));

    const run = await runBash(script, work.dir, 30_000);
    expect(run.code, `quick start failed:\n${run.stdout}\n${run.stderr}\nserver:\n${server.output()}`).toBe(0);

    // What the README says the script prints, line for line.
    const printed = README.match(/The script prints:\s*```\n([\s\S]*?)```/)?.[1];
    expect(printed, "README shows the script's output after 'The script prints:'").toBeDefined();
    const outputLines = run.stdout.split("\n");
    for (const line of printed!.trim().split("\n")) expect(outputLines).toContain(line);

    // The last command of the quick start reads the history; so does the test, independently.
    const lastLine = outputLines.filter((l) => l.trim()).at(-1)!;
    const shown = JSON.parse(lastLine) as { messages: Message[] };
    const history = await api(server.url, "GET", "/v1/conversations/quickstart/messages", undefined, adminKey);
    expect(history.status).toBe(200);
    for (const messages of [shown.messages, (history.body as { messages: Message[] }).messages]) {
      expect(messages.map((m) => ({ seq: m.seq, senderId: m.senderId, clientMessageId: m.clientMessageId }))).toEqual([
        { seq: 1, senderId: "alice", clientMessageId: "alice-1" },
        { seq: 2, senderId: "bob", clientMessageId: "bob-1" },
      ]);
    }
  }, 60_000);

  it("documents every environment variable config.ts reads, and no other", () => {
    const source = fs.readFileSync(path.join(ROOT, "server/src/config.ts"), "utf8");
    const schema = source.slice(source.indexOf("const envSchema"), source.indexOf("});", source.indexOf("const envSchema")));
    const read = [...schema.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]).sort();
    expect(read.length).toBeGreaterThan(10);

    // First cell of each row of the configuration table, e.g. "`JWT_JWKS_URL` / `JWT_PUBLIC_KEY`".
    const documented = section("Configuration")
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .flatMap((line) => [...line.split("|")[1].matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]))
      .sort();
    expect(documented).toEqual(read);
  });

  it("opens with the two commands package.json defines: npm start runs the server, npm test type-checks and runs vitest", () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const firstBlock = README.match(/```sh\n([\s\S]*?)```/)?.[1] ?? "";
    expect(firstBlock).toMatch(/^npm install && npm start\s+#/m);
    expect(firstBlock).toMatch(/^npm test\s+#/m);
    expect(scripts.start).toMatch(/server\/src\/main\.ts/);
    expect(scripts.test).toMatch(/typecheck/);
    expect(scripts.test).toMatch(/vitest run/);
  });
});
