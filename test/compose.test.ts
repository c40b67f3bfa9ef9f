import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, tempDir } from "./support/harness.js";

/** Runs a command without a shell; `ok` when it started and exited 0. */
function run(command: string, args: string[], cwd = ROOT): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 30_000 });
  return { ok: !result.error && result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/** Compose v2 (`docker compose`) or v1 (`docker-compose`); neither needs a Docker engine to parse. */
function findCompose(): string[] | undefined {
  if (run("docker", ["compose", "version"]).ok) return ["docker", "compose"];
  if (run("docker-compose", ["version"]).ok) return ["docker-compose"];
  return undefined;
}

function findNginx(): string | undefined {
  for (const candidate of ["nginx", "/usr/sbin/nginx"]) if (run(candidate, ["-v"]).ok) return candidate;
  return undefined;
}

const compose = findCompose();
const nginx = findNginx();

describe("the production-shaped stack", () => {
  it.skipIf(!compose)(`docker-compose.yml is a valid Compose file${compose ? "" : " (skipped: neither `docker compose` nor `docker-compose` is installed)"}`, () => {
    const [command, ...args] = compose!;
    const result = run(command!, [...args, "-f", "docker-compose.yml", "config", "-q"]);
    expect(result.output).toBe("");
    expect(result.ok).toBe(true);

    const services = run(command!, [...args, "-f", "docker-compose.yml", "config", "--services"]);
    expect(services.output.split("\n").filter(Boolean).sort()).toEqual(["lb", "mongo", "node1", "node2", "redis"]);
  });

  it.skipIf(!nginx)(`deploy/nginx.conf passes nginx -t${nginx ? "" : " (skipped: nginx is not installed)"}`, () => {
    // The Compose service names do not resolve here and `resolve` needs nginx 1.27.3+, so a copy
    // points the upstream at local addresses; everything else is checked as written.
    const { dir, remove } = tempDir("switchboard-nginx-");
    try {
      const original = fs.readFileSync(path.join(ROOT, "deploy/nginx.conf"), "utf8");
      expect(original).toMatch(/server node1:3000 resolve/);
      expect(original).toMatch(/server node2:3000 resolve/);
      const local = original
        .replace(/server node(\d+):3000 resolve/g, "server 127.0.0.1:300$1")
        .replace(/^pid .*;$/m, `pid ${path.join(dir, "nginx.pid")};`)
        .replace(/^user .*;$/m, "")
        .replaceAll("/var/log/nginx/", `${dir}/`);
      const file = path.join(dir, "nginx.conf");
      fs.writeFileSync(file, local);
      const result = run(nginx!, ["-t", "-q", "-p", dir, "-e", path.join(dir, "error.log"), "-c", file]);
      const log = fs.existsSync(path.join(dir, "error.log")) ? fs.readFileSync(path.join(dir, "error.log"), "utf8") : "";
      expect(result.ok, `${result.output}${log}`).toBe(true);
    } finally {
      remove();
    }
  });
});
