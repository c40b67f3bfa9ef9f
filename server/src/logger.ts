import { pino, type Logger } from "pino";
import type { Config } from "./config.js";

/**
 * The process logger: JSON lines by default (one object per event, with `msg` and context
 * fields an operator can grep), human-readable with `LOG_PRETTY=1`.
 */
export function createLogger(config: Pick<Config, "logLevel" | "logPretty">): Logger {
  return pino({
    name: "switchboard",
    level: config.logLevel,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Tokens and API keys must never reach a log line, whatever object is logged.
    redact: {
      paths: ["token", "*.token", "apiKey", "*.apiKey", "authorization", "*.authorization", "req.headers.authorization"],
      censor: "[redacted]",
    },
    ...(config.logPretty ? { transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l" } } } : {}),
  });
}

export type { Logger };
