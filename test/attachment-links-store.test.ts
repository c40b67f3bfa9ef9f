import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Attachment, Message } from "../client-sdk/src/protocol.js";
import { openSqliteDatabase, SqliteStore, type SqliteDatabase } from "../server/src/store/sqlite-store.js";
import type { AppendResult } from "../server/src/store/store.js";
import { withAttachmentLinks } from "../server/src/uploads/attachment-links-store.js";
import { UploadLinks } from "../server/src/uploads/upload-links.js";
import { tempDir } from "./support/harness.js";

/** A store that grew a method after the wrapper was written (as the threads work adds some). */
class GrownStore extends SqliteStore {
  async threadPage(conversationId: string): Promise<{ page: { messages: Message[] }; root: AppendResult }> {
    const { messages } = await this.getMessages(conversationId, { limit: 10 });
    return { page: { messages }, root: { kind: "created", message: messages[0], parent: messages[0] } };
  }
}

const UPLOAD_ID = `up_${"ab".repeat(16)}`;
const STORED: Attachment = {
  url: `/v1/uploads/${UPLOAD_ID}/content`,
  uploadId: UPLOAD_ID,
  name: "cat.png",
  mimeType: "image/png",
  size: 1234,
  width: 64,
  height: 48,
  thumbnail: { url: `/v1/uploads/${UPLOAD_ID}/content?v=thumbnail`, width: 64, height: 48, mimeType: "image/webp" },
};
const PLAIN: Attachment = { url: "https://cdn.example.com/dog.png", name: "dog.png" };

/** Signed: an absolute link on PUBLIC_URL with a signature, and its expiry. */
const signed = (variant: string) => expect.stringMatching(new RegExp(`^https://chat\\.example\\.com/v1/uploads/${UPLOAD_ID}/content\\?v=${variant}&exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));

describe("withAttachmentLinks", () => {
  let temp: ReturnType<typeof tempDir>;
  let db: SqliteDatabase;
  let raw: GrownStore;
  let store: GrownStore;
  const links = new UploadLinks({ key: randomBytes(32).toString("base64url"), publicUrl: "https://chat.example.com/", ttlSeconds: 600 });

  beforeEach(async () => {
    temp = tempDir("switchboard-links-");
    db = openSqliteDatabase(path.join(temp.dir, "store.db"), { synchronous: "NORMAL", busyTimeoutMs: 5000 });
    raw = new GrownStore(db);
    await raw.init();
    store = withAttachmentLinks(raw, links) as GrownStore;
    const now = new Date().toISOString();
    await store.createConversation({ id: "c1", type: "group", members: [{ userId: "alice", role: "owner" }, { userId: "bob", role: "member" }], createdAt: now });
  });
  afterEach(() => {
    db.close();
    temp.remove();
  });

  const append = (id: string, attachments: Attachment[]) =>
    store.appendMessage({ id, conversationId: "c1", senderId: "alice", clientMessageId: `cm-${id}`, type: "text", text: "", attachments, createdAt: new Date().toISOString() });

  it("signs uploaded attachments in every shape the store answers, and leaves plain ones as they are", async () => {
    const appended = await append("m1", [STORED, PLAIN]);
    const expected = [{ ...STORED, url: signed("original"), urlExpiresAt: expect.any(String), thumbnail: { ...STORED.thumbnail, url: signed("thumbnail") } }, PLAIN];
    expect(appended.message.attachments).toEqual(expected);
    expect((await store.getMessage("c1", "m1"))?.attachments).toEqual(expected);
    expect((await store.getMessageByClientId("alice", "cm-m1"))?.attachments).toEqual(expected);
    expect((await store.getMessages("c1", { limit: 10 })).messages[0].attachments).toEqual(expected);
    expect((await store.listConversations("bob", { limit: 10 }))[0].lastMessage?.attachments).toEqual(expected);
    expect((await store.updateMessage("c1", "m1", { text: "edited" }))?.attachments).toEqual(expected);
    // A method the wrapper has never heard of: nested pages and an AppendResult with its parent.
    const grown = await store.threadPage("c1");
    expect(grown.page.messages[0].attachments).toEqual(expected);
    expect(grown.root.kind === "created" && grown.root.parent?.attachments).toEqual(expected);
    expect(Date.parse(appended.message.attachments![0].urlExpiresAt!)).toBeGreaterThanOrEqual(Date.now() + 600_000);
  });

  it("stores what it is given in unsigned form, whatever links it carried", async () => {
    const { message } = await append("m2", [STORED]);
    // Written back as read (signed), as an edit that keeps its attachments does.
    await store.updateMessage("c1", "m2", { text: "again", attachments: message.attachments });
    expect((await raw.getMessage("c1", "m2"))?.attachments).toEqual([STORED]);
  });

  it("answers messages without uploads, and everything else, unchanged", async () => {
    await append("m3", [PLAIN]);
    const page = await raw.getMessages("c1", { limit: 10 });
    expect(await store.getMessages("c1", { limit: 10 })).toEqual(page);
    expect(await store.getConversation("c1")).toEqual(await raw.getConversation("c1"));
    expect(await store.getMessage("c1", "nope")).toBeNull();
    expect(store.ping).toBe(store.ping);
  });
});
