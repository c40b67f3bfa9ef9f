import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { SwitchboardError } from "../core/errors.js";
import { assertBlobKey, assertRange, type BlobObject, type BlobSource, type BlobStore, type ByteRange } from "./blob-store.js";

/** Stored when an object's type file is missing (it was written by hand, or half deleted). */
const FALLBACK_CONTENT_TYPE = "application/octet-stream";

/**
 * The embedded {@link BlobStore}: files under one directory (`DATA_DIR/blobs` in the app).
 *
 * Layout: `objects/<key>` holds the bytes, `types/<key>` the content type, `tmp/` the files
 * being written. A write goes to a temp file in `tmp/` (same file system), is fsynced, then
 * renamed over its final name: rename is atomic, so a reader sees the old object or the new
 * one. The type is written first and the bytes last, and `delete` removes them in the opposite
 * order, so an object never exists without its type. Keys pass {@link assertBlobKey}, and the
 * resolved path is checked once more to lie inside `objects/`.
 */
export class FsBlobStore implements BlobStore {
  private readonly objectsDir: string;
  private readonly typesDir: string;
  private readonly tmpDir: string;

  /** @param root the store's directory; created when missing. */
  constructor(root: string) {
    const absolute = path.resolve(root);
    this.objectsDir = path.join(absolute, "objects");
    this.typesDir = path.join(absolute, "types");
    this.tmpDir = path.join(absolute, "tmp");
    for (const dir of [this.objectsDir, this.typesDir, this.tmpDir]) fs.mkdirSync(dir, { recursive: true });
  }

  async put(key: string, source: BlobSource, contentType: string): Promise<{ size: number }> {
    const objectPath = this.pathOf(this.objectsDir, key);
    return fsCall(async () => {
      await this.writeAtomically(this.pathOf(this.typesDir, key), async (fd) => {
        await fd.writeFile(contentType, "utf8");
      });
      let size = 0;
      await this.writeAtomically(objectPath, async (fd) => {
        switch (source.kind) {
          case "file":
            // Streamed: an upload may be far larger than what should sit in memory.
            for await (const chunk of fs.createReadStream(source.path)) await fd.write(chunk as Buffer);
            break;
          case "bytes":
            await fd.writeFile(source.bytes);
            break;
          default: {
            const exhaustive: never = source;
            return exhaustive;
          }
        }
        size = (await fd.stat()).size;
      });
      return { size };
    });
  }

  async get(key: string, range?: ByteRange): Promise<BlobObject | null> {
    const objectPath = this.pathOf(this.objectsDir, key);
    return fsCall(async () => {
      let fd: fs.promises.FileHandle;
      try {
        fd = await fs.promises.open(objectPath, "r");
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
      try {
        // Size from the open descriptor: a rename replacing the object meanwhile does not change what we read.
        const totalSize = (await fd.stat()).size;
        if (range) assertRange(range, totalSize);
        const contentType = await fs.promises.readFile(this.pathOf(this.typesDir, key), "utf8").catch((err: unknown) => {
          if (isMissing(err)) return FALLBACK_CONTENT_TYPE;
          throw err;
        });
        if (totalSize === 0) {
          // createReadStream with end -1 would read the whole file: answer an empty stream instead.
          await fd.close();
          return { stream: Readable.from([]), size: 0, totalSize, contentType };
        }
        const start = range?.start ?? 0;
        const end = range?.end ?? totalSize - 1;
        return { stream: fd.createReadStream({ start, end }), size: end - start + 1, totalSize, contentType };
      } catch (err) {
        await fd.close();
        throw err;
      }
    });
  }

  async delete(key: string): Promise<void> {
    const objectPath = this.pathOf(this.objectsDir, key);
    const typePath = this.pathOf(this.typesDir, key);
    await fsCall(async () => {
      await fs.promises.rm(objectPath, { force: true });
      await fs.promises.rm(typePath, { force: true });
      // Empty per-upload directories would pile up; remove them up to the root (racing writers recreate theirs).
      await removeEmptyParents(path.dirname(objectPath), this.objectsDir);
      await removeEmptyParents(path.dirname(typePath), this.typesDir);
    });
  }

  async exists(key: string): Promise<boolean> {
    const objectPath = this.pathOf(this.objectsDir, key);
    return fsCall(async () => {
      try {
        return (await fs.promises.stat(objectPath)).isFile();
      } catch (err) {
        if (isMissing(err)) return false;
        throw err;
      }
    });
  }

  async list(prefix: string): Promise<string[]> {
    return fsCall(async () => {
      const entries = await fs.promises.readdir(this.objectsDir, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => path.relative(this.objectsDir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
        .filter((key) => key.startsWith(prefix));
    });
  }

  /** The file of `key` under `dir`, after checking the key and that the result stays inside `dir`. */
  private pathOf(dir: string, key: string): string {
    assertBlobKey(key);
    const resolved = path.resolve(dir, ...key.split("/"));
    if (!resolved.startsWith(dir + path.sep)) {
      throw new SwitchboardError("invalid_argument", `Blob key ${JSON.stringify(key)} resolves outside the store.`);
    }
    return resolved;
  }

  /** Writes through a temp file in `tmp/`, fsyncs it, then renames it to `target`. */
  private async writeAtomically(target: string, write: (fd: fs.promises.FileHandle) => Promise<void>): Promise<void> {
    const temp = path.join(this.tmpDir, `${randomBytes(12).toString("hex")}.part`);
    const fd = await fs.promises.open(temp, "wx", 0o600);
    try {
      await write(fd);
      await fd.sync();
      await fd.close();
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.rename(temp, target).catch(async (err: unknown) => {
        // A delete of a sibling key removed the just-made (empty) directory: make it again, once.
        if (!isMissing(err)) throw err;
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        await fs.promises.rename(temp, target);
      });
    } catch (err) {
      await fd.close().catch(() => undefined);
      await fs.promises.rm(temp, { force: true });
      throw err;
    }
  }
}

async function removeEmptyParents(dir: string, root: string): Promise<void> {
  for (let current = dir; current.startsWith(root + path.sep); current = path.dirname(current)) {
    try {
      await fs.promises.rmdir(current);
    } catch {
      // Not empty (or already gone, or recreated by a writer): stop here.
      return;
    }
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Maps file system failures to the error family, as the SQLite store does for its file. */
async function fsCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SwitchboardError) throw err;
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ENOSPC" || code === "EDQUOT") throw new SwitchboardError("unavailable", "The disk holding DATA_DIR/blobs is full; free space.", { cause: err });
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw new SwitchboardError("unavailable", "DATA_DIR/blobs is not writable; check its permissions.", { cause: err });
    }
    if (code === "EIO" || code === "EMFILE" || code === "ENFILE") throw new SwitchboardError("unavailable", `File storage failed (${code}); retry shortly.`, { cause: err });
    throw err;
  }
}
