import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

/**
 * The process entry point: `npm start`. Reads the environment, starts one node, and stops it
 * gracefully on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  let config;
  let app;
  try {
    config = loadConfig();
    // createApp finds what the environment alone cannot show (a hook URL that resolves to a private address).
    app = await createApp(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(78);
    }
    throw err;
  }
  const { logger } = app;
  // A library promise nobody awaited (the Redis adapter publishes without a catch) must not take
  // every connection of this node down with it; it is logged so it can be fixed at the source.
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
  await app.listen();

  const base = config.port === 0 ? app.localUrl : config.publicUrl;
  process.stdout.write(`\nSwitchboard is running: ${base}  (demo: ${base}/demo, API reference: ${base}/docs)\n`);
  if (app.generatedAdminKey) {
    process.stdout.write(
      `\nAn admin API key was generated (shown once, stored only as a hash; set ADMIN_API_KEY to choose your own):\n\n    ${app.generatedAdminKey}\n\n`,
    );
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting at once");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "signal received");
    app.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`Switchboard failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof Error && err.stack && process.env.LOG_LEVEL === "debug") process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
