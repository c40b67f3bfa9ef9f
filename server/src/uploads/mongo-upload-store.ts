import { MongoServerError, type Collection, type Db, type Filter, type WriteConcernSettings } from "mongodb";
import { SwitchboardError } from "../core/errors.js";
import { runMongo } from "../store/mongo-store.js";
import {
  explainAttachRefusal,
  type AttachOutcome,
  type MmsVariant,
  type UploadHolder,
  type UploadOwner,
  type UploadRecord,
  type UploadStore,
  type UploadThumbnail,
} from "./upload-store.js";

/** One upload; mirrors the SQLite row. `expiresAt` exists exactly while no message holds it. */
interface UploadDoc {
  _id: string;
  owner: UploadOwner;
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
  width?: number;
  height?: number;
  thumbnail?: UploadThumbnail;
  blobs: { original: string; thumbnail?: string; mms?: string };
  mms?: MmsVariant;
  createdAt: Date;
  expiresAt?: Date;
  attachedTo?: UploadHolder;
  deleteAfter?: Date;
}

interface SettingDoc {
  _id: string;
  value: string;
}

const DUPLICATE_KEY = 11000;
/** The setting holding the link-signing key. */
const LINK_KEY_SETTING = "link-key";

/**
 * The MongoDB {@link UploadStore}: collections `uploads` and `uploadSettings` in the main
 * database. An attach is one conditional `updateOne` (free, not released, not expired), so of
 * concurrent attaches exactly one matches; no transaction is needed. There is no TTL index: the
 * sweeper must delete the blobs before the record, so it alone removes records.
 */
export class MongoUploadStore implements UploadStore {
  private readonly uploads: Collection<UploadDoc>;
  private readonly settings: Collection<SettingDoc>;

  /**
   * @param db the main store's database (its client is owned and closed by the composition root).
   * @param options.writeConcern default `{ w: "majority", journal: true }`, like the main store.
   */
  constructor(db: Db, options: { writeConcern?: WriteConcernSettings } = {}) {
    const collectionOptions = { writeConcern: options.writeConcern ?? { w: "majority" as const, journal: true }, ignoreUndefined: true };
    this.uploads = db.collection<UploadDoc>("uploads", collectionOptions);
    this.settings = db.collection<SettingDoc>("uploadSettings", collectionOptions);
  }

  init(): Promise<void> {
    return runMongo(async () => {
      await this.uploads.createIndexes([
        // Sparse: attached records have no expiresAt, released ones are the only ones with deleteAfter.
        { key: { expiresAt: 1 }, name: "unattached_expiry", sparse: true },
        { key: { deleteAfter: 1 }, name: "released", sparse: true },
      ]);
    });
  }

  create(record: UploadRecord): Promise<void> {
    return runMongo(async () => {
      try {
        await this.uploads.insertOne(toDoc(record));
      } catch (err) {
        if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) {
          throw new SwitchboardError("conflict", `Upload ${record.id} already exists.`, { cause: err });
        }
        throw err;
      }
    });
  }

  get(id: string): Promise<UploadRecord | null> {
    return runMongo(async () => {
      const doc = await this.uploads.findOne({ _id: id });
      return doc ? toRecord(doc) : null;
    });
  }

  attach(id: string, holder: UploadHolder, now: Date): Promise<AttachOutcome> {
    return runMongo(async () => {
      const { matchedCount } = await this.uploads.updateOne(
        { _id: id, attachedTo: { $exists: false }, deleteAfter: { $exists: false }, expiresAt: { $gt: now } },
        { $set: { attachedTo: { conversationId: holder.conversationId, messageId: holder.messageId } }, $unset: { expiresAt: "" } },
      );
      if (matchedCount === 1) return { kind: "attached" };
      const current = await this.uploads.findOne({ _id: id });
      return explainAttachRefusal(current ? toRecord(current) : null, holder);
    });
  }

  release(id: string, messageId: string, deleteAfter: Date): Promise<boolean> {
    return runMongo(async () => {
      const { matchedCount } = await this.uploads.updateOne(
        { _id: id, "attachedTo.messageId": messageId, deleteAfter: { $exists: false } },
        { $set: { deleteAfter } },
      );
      return matchedCount === 1;
    });
  }

  setMmsVariant(id: string, blobKey: string, variant: MmsVariant): Promise<UploadRecord | null> {
    return runMongo(async () => {
      const doc = await this.uploads.findOneAndUpdate({ _id: id }, { $set: { "blobs.mms": blobKey, mms: variant } }, { returnDocument: "after" });
      return doc ? toRecord(doc) : null;
    });
  }

  listDue(now: Date, limit: number): Promise<UploadRecord[]> {
    return runMongo(async () => (await this.uploads.find(due(now)).limit(limit).toArray()).map(toRecord));
  }

  remove(id: string, now: Date): Promise<boolean> {
    return runMongo(async () => (await this.uploads.deleteOne({ _id: id, ...due(now) })).deletedCount === 1);
  }

  linkKey(candidate: string): Promise<string> {
    return runMongo(async () => {
      try {
        await this.settings.updateOne({ _id: LINK_KEY_SETTING }, { $setOnInsert: { value: candidate } }, { upsert: true });
      } catch (err) {
        // Another node inserted it between our match and our insert: theirs is the key in force.
        if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
      }
      const doc = await this.settings.findOne({ _id: LINK_KEY_SETTING });
      if (!doc) throw new SwitchboardError("unavailable", "The link-signing key disappeared right after it was stored; retry.");
      return doc.value;
    });
  }
}

/** Due for deletion: unattached past its expiry, or released past its retention. */
function due(now: Date): Filter<UploadDoc> {
  return { $or: [{ expiresAt: { $lte: now } }, { deleteAfter: { $lte: now } }] };
}

function toDoc(r: UploadRecord): UploadDoc {
  const doc: UploadDoc = {
    _id: r.id,
    owner: r.owner.kind === "user" ? { kind: "user", userId: r.owner.userId } : { kind: "backend", keyId: r.owner.keyId },
    name: r.name,
    mimeType: r.mimeType,
    size: r.size,
    sha256: r.sha256,
    blobs: { ...r.blobs },
    createdAt: new Date(r.createdAt),
  };
  if (r.width !== undefined) doc.width = r.width;
  if (r.height !== undefined) doc.height = r.height;
  if (r.thumbnail) doc.thumbnail = { ...r.thumbnail };
  if (r.mms) doc.mms = { ...r.mms };
  if (r.expiresAt !== undefined) doc.expiresAt = new Date(r.expiresAt);
  if (r.attachedTo) doc.attachedTo = { conversationId: r.attachedTo.conversationId, messageId: r.attachedTo.messageId };
  if (r.deleteAfter !== undefined) doc.deleteAfter = new Date(r.deleteAfter);
  return doc;
}

function toRecord(d: UploadDoc): UploadRecord {
  const owner: UploadOwner = d.owner.kind === "user" ? { kind: "user", userId: d.owner.userId } : { kind: "backend", keyId: d.owner.keyId };
  const blobs: UploadRecord["blobs"] = { original: d.blobs.original };
  if (d.blobs.thumbnail != null) blobs.thumbnail = d.blobs.thumbnail;
  if (d.blobs.mms != null) blobs.mms = d.blobs.mms;
  const record: UploadRecord = {
    id: d._id,
    owner,
    name: d.name,
    mimeType: d.mimeType,
    size: d.size,
    sha256: d.sha256,
    blobs,
    createdAt: d.createdAt.toISOString(),
  };
  if (d.width != null) record.width = d.width;
  if (d.height != null) record.height = d.height;
  if (d.thumbnail != null) record.thumbnail = { width: d.thumbnail.width, height: d.thumbnail.height, mimeType: d.thumbnail.mimeType, size: d.thumbnail.size };
  if (d.mms != null) record.mms = { mimeType: "image/jpeg", size: d.mms.size, width: d.mms.width, height: d.mms.height, maxBytes: d.mms.maxBytes };
  if (d.expiresAt != null) record.expiresAt = d.expiresAt.toISOString();
  if (d.attachedTo != null) record.attachedTo = { conversationId: d.attachedTo.conversationId, messageId: d.attachedTo.messageId };
  if (d.deleteAfter != null) record.deleteAfter = d.deleteAfter.toISOString();
  return record;
}
