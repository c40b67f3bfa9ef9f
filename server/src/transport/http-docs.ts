import { createHash } from "node:crypto";

/**
 * The `/docs` page: an API reference rendered on the server from the OpenAPI document, so it
 * needs no CDN and no script, and works under a CSP that allows only its own stylesheet.
 */

/** The subset of an OpenAPI 3.1 schema object the renderer reads. */
interface SchemaObject {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  additionalProperties?: SchemaObject | boolean;
  required?: string[];
  anyOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  allOf?: SchemaObject[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  example?: unknown;
}

interface ParameterObject {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: SchemaObject;
}

interface MediaTypes {
  content?: Record<string, { schema?: SchemaObject }>;
}

interface OperationObject {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: ParameterObject[];
  requestBody?: MediaTypes & { required?: boolean };
  responses?: Record<string, MediaTypes & { description?: string }>;
}

/** The subset of an OpenAPI 3.1 document the renderer reads. */
export interface OpenApiDocumentLike {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> };
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

const CSS = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#fff;--code:#f3f5f8;--accent:#2459c7}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#a3abba;--line:#343b48;--bg:#15181e;--code:#1f242d;--accent:#7aa5ff}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:980px;margin:0 auto;padding:24px}h1{margin:0 0 4px}h2{margin-top:40px;border-bottom:1px solid var(--line);padding-bottom:4px}
a{color:var(--accent)}code,pre{font:13px/1.45 ui-monospace,monospace;background:var(--code);border-radius:4px}code{padding:1px 4px}
.op{border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:16px 0}.op h3{margin:0;font-size:16px}
.m{display:inline-block;min-width:64px;text-align:center;font:600 12px ui-monospace,monospace;padding:2px 6px;border-radius:4px;color:#fff;margin-right:8px}
.get{background:#2f7d4f}.post{background:#2459c7}.delete{background:#b3372f}.put,.patch{background:#8a5a00}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;vertical-align:top;border-bottom:1px solid var(--line);padding:4px 8px}
th{font-weight:600;color:var(--muted)}.muted{color:var(--muted)}ul.toc{columns:2}h4{margin:14px 0 4px}
`.trim();

/** `Content-Security-Policy` of the page: nothing but its own inline stylesheet, by hash. */
export const DOCS_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(CSS).digest("base64")}'`,
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Renders the whole reference page for `doc`. */
export function renderDocsPage(doc: OpenApiDocumentLike): string {
  const operations: { method: string; path: string; op: OperationObject }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method] as OperationObject | undefined;
      if (op) operations.push({ method, path, op });
    }
  }
  const tags = [...new Set(operations.map((o) => o.op.tags?.[0] ?? "Other"))];
  const schemas = Object.entries((doc.components?.schemas ?? {}) as Record<string, SchemaObject>);

  const toc = tags
    .map((tag) => {
      const items = operations
        .filter((o) => (o.op.tags?.[0] ?? "Other") === tag)
        .map((o) => `<li><a href="#${opId(o.method, o.path)}"><code>${o.method.toUpperCase()} ${esc(o.path)}</code></a> ${esc(o.op.summary ?? "")}</li>`)
        .join("");
      return `<li><strong>${esc(tag)}</strong><ul>${items}</ul></li>`;
    })
    .join("");

  const sections = tags
    .map(
      (tag) =>
        `<h2>${esc(tag)}</h2>` +
        operations
          .filter((o) => (o.op.tags?.[0] ?? "Other") === tag)
          .map((o) => renderOperation(o.method, o.path, o.op))
          .join(""),
    )
    .join("");

  const schemaSections = schemas.map(([name, schema]) => `<section id="schema-${esc(name)}"><h4>${esc(name)}</h4>${renderSchema(schema)}</section>`).join("");

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)} reference</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(doc.info.title)} <span class="muted">v${esc(doc.info.version)}</span></h1>
${doc.info.description ? `<p>${inline(doc.info.description)}</p>` : ""}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are always <code>{"error":{"code","message"}}</code>.</p>
<ul class="toc">${toc}<li><strong><a href="#schemas">Schemas</a></strong></li></ul>
${sections}
<h2 id="schemas">Schemas</h2>${schemaSections}
</main></body></html>`;
}

function renderOperation(method: string, path: string, op: OperationObject): string {
  const scopes = (op.security ?? []).flatMap((s) => Object.values(s).flat());
  const auth = op.security?.length
    ? `<p>API key: <code>Authorization: Bearer &lt;key&gt;</code> with scope ${scopes.map((s) => `<code>${esc(s)}</code>`).join(", ") || "any"}.</p>`
    : `<p class="muted">No API key needed.</p>`;
  const params = op.parameters?.length
    ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>${op.parameters
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code>${p.required ? " <span class=\"muted\">required</span>" : ""}</td><td>${esc(p.in)}</td><td>${typeOf(p.schema)}</td><td>${inline(p.description ?? p.schema?.description ?? "")}</td></tr>`,
        )
        .join("")}</table>`
    : "";
  const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
  const body = bodySchema ? `<h4>Body <span class="muted">application/json</span></h4>${renderSchema(bodySchema)}` : "";
  const responses = Object.entries(op.responses ?? {})
    .map(([status, r]) => {
      const schema = r.content?.["application/json"]?.schema;
      return `<tr><td><code>${esc(status)}</code></td><td>${schema ? typeOf(schema) : ""}</td><td>${inline(r.description ?? "")}</td></tr>`;
    })
    .join("");
  return `<section class="op" id="${opId(method, path)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span><code>${esc(path)}</code></h3>
<p><strong>${esc(op.summary ?? "")}</strong>${op.description ? ` ${inline(op.description)}` : ""}</p>
${auth}${params}${body}
<h4>Responses</h4><table><tr><th>status</th><th>body</th><th>meaning</th></tr>${responses}</table>
</section>`;
}

/** A schema as a property table (objects) or a type expression (anything else). */
function renderSchema(schema: SchemaObject): string {
  if (!schema.properties) {
    return `<p>${typeOf(schema)}${schema.description ? ` ${inline(schema.description)}` : ""}</p>`;
  }
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties)
    .map(
      ([name, prop]) =>
        `<tr><td><code>${esc(name)}</code>${required.has(name) ? "" : " <span class=\"muted\">optional</span>"}</td><td>${typeOf(prop)}</td><td>${inline(prop.description ?? "")}${constraints(prop)}</td></tr>`,
    )
    .join("");
  return `${schema.description ? `<p>${inline(schema.description)}</p>` : ""}<table><tr><th>field</th><th>type</th><th>description</th></tr>${rows}</table>`;
}

/** A compact type expression, with named schemas linked. */
function typeOf(schema: SchemaObject | undefined): string {
  if (!schema) return "";
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop() ?? schema.$ref;
    return `<a href="#schema-${esc(name)}">${esc(name)}</a>`;
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map(typeOf).join(" | ");
  if (schema.allOf) return schema.allOf.map(typeOf).join(" &amp; ");
  if (schema.const !== undefined) return `<code>${esc(JSON.stringify(schema.const))}</code>`;
  if (schema.enum) return schema.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(" | ");
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  return types
    .map((type) => {
      if (type === "array") return `${typeOf(schema.items)}[]`;
      if (type === "object" && schema.properties) {
        const required = new Set(schema.required ?? []);
        const fields = Object.entries(schema.properties).map(([k, v]) => `${esc(k)}${required.has(k) ? "" : "?"}: ${typeOf(v)}`);
        return `{ ${fields.join(", ")} }`;
      }
      if (type === "object" && typeof schema.additionalProperties === "object") return `{ [key]: ${typeOf(schema.additionalProperties)} }`;
      return esc(schema.format ? `${type} (${schema.format})` : type);
    })
    .join(" | ");
}

function constraints(schema: SchemaObject): string {
  const parts: string[] = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined) parts.push(`length ${schema.minLength ?? 0}–${schema.maxLength ?? "∞"}`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) parts.push(`range ${schema.minimum ?? "−∞"}–${schema.maximum ?? "∞"}`);
  if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} items`);
  if (schema.pattern) parts.push(`pattern <code>${esc(schema.pattern)}</code>`);
  return parts.length ? ` <span class="muted">(${parts.join("; ")})</span>` : "";
}

function opId(method: string, path: string): string {
  return `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

/** Escapes text and turns Markdown `code` spans into <code>. */
function inline(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] as string);
}
