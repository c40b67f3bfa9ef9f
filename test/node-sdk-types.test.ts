import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument, generateTypes, GENERATED_PATH } from "../node-sdk/scripts/generate.js";
import { ROOT } from "./support/harness.js";

const SDK_ENTRY = path.join(ROOT, "node-sdk/src/index.ts");

/**
 * Type-checks the Node SDK's sources with `generated/openapi.ts` replaced by `generatedSource`
 * (read from a file in a temp dir), through the TypeScript compiler API: only the SDK's own
 * files and their dependencies, so it takes seconds, not the whole repository's typecheck.
 */
function typecheckSdkAgainst(generatedFile: string, oldProgram?: ts.Program): { errors: string[]; program: ts.Program } {
  const configPath = path.join(ROOT, "node-sdk/tsconfig.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const options = { ...parsed.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const substitute = (fileName: string) => (path.resolve(fileName) === GENERATED_PATH ? generatedFile : fileName);
  const getSourceFile = host.getSourceFile.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, language, onError, create) => getSourceFile(substitute(fileName), language, onError, create);
  host.readFile = (fileName) => readFile(substitute(fileName));
  // With the control's program as `oldProgram`, the unchanged files (node's types, openapi-fetch, jose) are reused.
  const program = ts.createProgram({ rootNames: [SDK_ENTRY, path.join(ROOT, "node-sdk/src/cli.ts")], options, host, ...(oldProgram ? { oldProgram } : {}) });
  // Only the SDK's own files are checked (what they use of the types is resolved lazily): checking the
  // 300 KB generated file and node's types in full would take most of the time and find nothing new.
  const own = program.getSourceFiles().filter((f) => f.fileName.includes("/node-sdk/src/") && !f.fileName.includes("/generated/"));
  const errors = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...own.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ]
    .map((d) => `${d.file ? path.relative(ROOT, d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  return { errors, program };
}

describe("the Node SDK's generated types", () => {
  let doc: any;
  let tmp: string;
  beforeAll(async () => {
    doc = await buildOpenApiDocument();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-sdk-types-"));
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("match the server's OpenAPI document exactly (run `npm run generate -w node-sdk` when this fails)", async () => {
    const fresh = await generateTypes(doc);
    const checkedIn = fs.readFileSync(GENERATED_PATH, "utf8");
    // Not toEqual on 300 KB strings: say what to do rather than print a giant diff.
    expect(fresh === checkedIn, "node-sdk/src/generated/openapi.ts is stale: run `npm run generate -w node-sdk` and commit it").toBe(true);
  });

  it("make the SDK's build fail when a field the SDK uses is renamed in a schema", async () => {
    const renamed = structuredClone(doc);
    const message = renamed.components.schemas.Message;
    // Message.seq is what the history iterator pages by.
    message.properties.sequence = message.properties.seq;
    delete message.properties.seq;
    message.required = message.required.map((name: string) => (name === "seq" ? "sequence" : name));
    const original = path.join(tmp, "openapi.ts");
    const broken = path.join(tmp, "openapi-renamed.ts");
    fs.writeFileSync(original, await generateTypes(doc));
    fs.writeFileSync(broken, await generateTypes(renamed));

    // The control: the same check on the types as they are finds nothing, so the failure below is the rename's.
    const control = typecheckSdkAgainst(original);
    expect(control.errors).toEqual([]);
    const { errors } = typecheckSdkAgainst(broken, control.program);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join("\n")).toMatch(/node-sdk\/src\/client\.ts: Property 'seq' does not exist/);
  }, 120_000);
});
