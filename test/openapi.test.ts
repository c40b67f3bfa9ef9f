import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpApp, type HttpTestApp } from "./support/http-harness.js";

describe("the OpenAPI document", () => {
  let t: HttpTestApp;
  let doc: any;
  beforeAll(async () => {
    t = await startHttpApp();
    doc = (await t.call("GET", "/openapi.json", { key: null })).body;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("is a valid OpenAPI 3.1 document by the specification's own JSON schema", async () => {
    expect(Validator.supportedVersions.has("3.1")).toBe(true);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    // Every $ref resolves to a component of the document.
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it("documents the Idempotency-Key header on every POST authenticated by an API key, and Idempotent-Replayed on its successes", () => {
    // The header is applied after API key authentication; a route with other credentials (the widget's) does not take it,
    // nor does one whose body is a file (an upload), which is streamed to disk instead of being fingerprinted and replayed.
    const posts = Object.entries<Record<string, any>>(doc.paths).filter(
      ([path, item]) =>
        path.startsWith("/v1/") &&
        item.post?.security?.some((s: Record<string, unknown>) => "apiKey" in s) &&
        (!item.post.requestBody || "application/json" in item.post.requestBody.content),
    );
    expect(posts.length).toBeGreaterThan(5);
    for (const [path, item] of posts) {
      const header = item.post.parameters?.find((p: { in: string; name: string }) => p.in === "header" && p.name === "Idempotency-Key");
      expect(header, `POST ${path}`).toMatchObject({ required: false, schema: { type: "string", minLength: 1, maxLength: 255 } });
      for (const [status, response] of Object.entries<any>(item.post.responses)) {
        if (status.startsWith("2")) expect(response.headers, `POST ${path} ${status}`).toHaveProperty("Idempotent-Replayed");
      }
    }
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const method of ["get", "patch", "delete"]) {
        const names = (item[method]?.parameters ?? []).map((p: { name: string }) => p.name);
        expect(names, `${method.toUpperCase()} ${path}`).not.toContain("Idempotency-Key");
      }
    }
  });

  it("describes edited and deleted messages and the rotation of API keys", () => {
    const message = doc.components.schemas.Message;
    expect(Object.keys(message.properties)).toEqual(expect.arrayContaining(["editedAt", "deletedAt", "deleted"]));
    expect(message.required).not.toContain("editedAt");
    const item = doc.paths["/v1/conversations/{id}/messages/{messageId}"];
    expect(item.patch.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/MessageEdit" });
    expect(item.delete.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Message" });
    expect(doc.paths["/v1/api-keys/{id}/rotate"].post.security).toEqual([{ apiKey: ["admin"] }]);
    expect(doc.components.schemas.ApiKey.properties).toHaveProperty("previousKeyExpiresAt");
    expect(doc.components.schemas.ApiKey.properties).toHaveProperty("lastUsedAt");
  });

  it("documents the email unsubscribe link: a page and the RFC 8058 one-click POST, without credentials", () => {
    const item = doc.paths["/v1/email/unsubscribe/{token}"];
    for (const method of ["get", "post"]) {
      expect(item[method].security, method).toEqual([]);
      expect(item[method].parameters.map((p: { name: string }) => p.name)).toEqual(["token"]);
      expect(item[method].responses["200"].content).toHaveProperty(["text/html"]);
      expect(Object.keys(item[method].responses)).toEqual(expect.arrayContaining(["200", "404"]));
    }
    expect(doc.paths["/v1/email/unsubscribe/{token}"].post.responses["404"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    expect(doc.components.schemas.UserUpsert.properties).toHaveProperty("email");
    expect(doc.components.schemas.NotificationPreferencesPatch.properties).toHaveProperty("emailDelayMs");
  });

  it("documents uploads: raw bytes in with a user token or an API key, and the signed download without credentials", () => {
    const upload = doc.paths["/v1/uploads"].post;
    expect(upload.security).toEqual([{ userToken: [] }, { apiKey: ["write"] }]);
    expect(upload.requestBody.content["application/octet-stream"].schema).toMatchObject({ type: "string", format: "binary" });
    expect(upload.responses["201"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Upload" });
    expect(Object.keys(upload.responses)).toEqual(expect.arrayContaining(["400", "401", "403", "413", "429"]));
    expect(doc.paths["/v1/uploads/{id}"].get.security).toEqual([{ userToken: [] }, { apiKey: ["read"] }]);
    const content = doc.paths["/v1/uploads/{id}/content"].get;
    expect(content.security).toEqual([]);
    expect(content.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["id", "v", "exp", "sig"]));
    expect(Object.keys(doc.components.schemas.Attachment.properties)).toEqual(expect.arrayContaining(["uploadId", "thumbnail", "urlExpiresAt", "width"]));
  });
});
