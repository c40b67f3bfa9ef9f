import { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { tempDir } from "./harness.js";

/** Credentials s3rver accepts (it checks signatures against these). */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** A real S3-protocol server in this process, on a free port, its data in a temp dir. */
export interface TestS3Server {
  /** `http://127.0.0.1:<port>`, for `S3_ENDPOINT`. */
  endpoint: string;
  /** The bucket created at start. */
  bucket: string;
  /** A client for it, configured as the app configures its own (path style, checksums only when required). */
  client(): S3Client;
  /** Stops the server, destroys the clients and removes its data. */
  close(): Promise<void>;
}

/**
 * Starts s3rver with one bucket. Clients are built with `requestChecksumCalculation:
 * "WHEN_REQUIRED"`: by default the AWS SDK sends uploads with `aws-chunked` encoding and a
 * trailing CRC32, which s3rver (like some other S3-compatible services) stores as the object's
 * bytes, framing included.
 */
export async function startS3Server(bucket = "switchboard-test"): Promise<TestS3Server> {
  const data = tempDir("switchboard-s3rver-");
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: data.dir, configureBuckets: [{ name: bucket }] });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (err) {
    data.remove();
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    endpoint,
    bucket,
    client() {
      const client = new S3Client({
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await server.close();
      data.remove();
    },
  };
}
