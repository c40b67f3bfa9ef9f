import fs from "node:fs";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from "@aws-sdk/client-s3";
import { SwitchboardError } from "../core/errors.js";
import { assertBlobKey, assertRange, type BlobObject, type BlobSource, type BlobStore, type ByteRange } from "./blob-store.js";

/** Options of {@link S3BlobStore}. */
export interface S3BlobStoreOptions {
  /** The client, built by the composition root from `Config.uploads.s3`; never destroyed here. */
  client: S3Client;
  /** `S3_BUCKET`; it must exist. */
  bucket: string;
  /** `S3_PREFIX`, put before every key (default `switchboard/` in the config; "" for none). */
  prefix?: string;
}

/**
 * The {@link BlobStore} on S3 or any S3-compatible service (MinIO, R2, Ceph, s3rver in tests),
 * through the official `@aws-sdk/client-s3`. Objects are `<prefix><key>` in one bucket. S3 itself
 * gives the contract: a PUT is atomic and read-after-write consistent, and DELETE of a missing
 * key succeeds.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? "";
  }

  async put(key: string, source: BlobSource, contentType: string): Promise<{ size: number }> {
    const objectKey = this.objectKey(key);
    return s3Call(async () => {
      let body: Uint8Array | Readable;
      let size: number;
      switch (source.kind) {
        case "file":
          // A streamed body needs its length up front (S3 refuses a PUT of unknown length).
          size = (await fs.promises.stat(source.path)).size;
          body = fs.createReadStream(source.path);
          break;
        case "bytes":
          size = source.bytes.byteLength;
          body = source.bytes;
          break;
        default: {
          const exhaustive: never = source;
          return exhaustive;
        }
      }
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body, ContentLength: size, ContentType: contentType }));
      } finally {
        if (body instanceof Readable) body.destroy();
      }
      return { size };
    });
  }

  async get(key: string, range?: ByteRange): Promise<BlobObject | null> {
    const objectKey = this.objectKey(key);
    return s3Call(async () => {
      let answer;
      try {
        answer = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
        );
      } catch (err) {
        if (isNotFound(err)) return null;
        if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416 && range) {
          throw new SwitchboardError("invalid_argument", `Byte range ${range.start}-${range.end} does not lie within the object.`, { cause: err });
        }
        throw err;
      }
      const stream = answer.Body as Readable;
      const size = answer.ContentLength ?? 0;
      let totalSize = size;
      if (range) {
        totalSize = Number(/\/(\d+)$/.exec(answer.ContentRange ?? "")?.[1] ?? size);
        try {
          // S3 shortens a range that runs past the end; the contract refuses it, as the fs driver does.
          assertRange(range, totalSize);
        } catch (err) {
          stream.destroy();
          throw err;
        }
      }
      return { stream, size, totalSize, contentType: answer.ContentType ?? "application/octet-stream" };
    });
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    await s3Call(async () => {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      } catch (err) {
        // S3 answers 204 for a missing key; some compatible services answer 404.
        if (!isNotFound(err)) throw err;
      }
    });
  }

  async exists(key: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    return s3Call(async () => {
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    });
  }

  async list(prefix: string): Promise<string[]> {
    return s3Call(async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.prefix.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    });
  }

  private objectKey(key: string): string {
    assertBlobKey(key);
    return this.prefix + key;
  }
}

/** Error codes of a connection that failed: S3 is unreachable, not wrong. */
const NETWORK_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === "NoSuchKey" || err.name === "NotFound" || err.$metadata.httpStatusCode === 404);
}

/**
 * Maps S3 failures to the error family: a missing bucket or refused credentials are the
 * operator's to fix (`unavailable` naming the setting); network trouble and 5xx are `unavailable`.
 */
async function s3Call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SwitchboardError) throw err;
    if (err instanceof S3ServiceException) {
      if (err.name === "NoSuchBucket") throw new SwitchboardError("unavailable", "The S3 bucket does not exist; create it or fix S3_BUCKET.", { cause: err });
      if (err.name === "AccessDenied" || err.name === "InvalidAccessKeyId" || err.name === "SignatureDoesNotMatch") {
        throw new SwitchboardError("unavailable", `S3 refused the request (${err.name}); check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the bucket policy.`, {
          cause: err,
        });
      }
      throw new SwitchboardError("unavailable", `S3 failed (${err.name}, HTTP ${err.$metadata.httpStatusCode ?? "?"}); retry shortly.`, { cause: err });
    }
    const code = (err as NodeJS.ErrnoException | undefined)?.code ?? "";
    if (NETWORK_ERROR_CODES.has(code) || (err instanceof Error && err.name === "TimeoutError")) {
      throw new SwitchboardError("unavailable", "S3 cannot be reached; check S3_ENDPOINT and the network.", { cause: err });
    }
    throw err;
  }
}
