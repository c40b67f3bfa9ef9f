/*
 * Switchboard's push service worker: shows the notification a Web Push message carries and, on
 * a click, brings the app forward. Serve it from your site's origin (a service worker cannot come
 * from another one) and register it with `enablePushNotifications()` from the client SDK.
 *
 * The payload is the JSON the server builds (server/src/delivery/push/push-payload.ts):
 * { type: "message", conversationId, messageId, seq, title, body, messageCount, url?, tag }.
 */

// Take over at once: enablePushNotifications() waits for an active worker before subscribing.
self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", (event) => {
  let payload = {};
  if (event.data) {
    try {
      payload = event.data.json();
    } catch {
      // Not ours, or not JSON: still show something, since userVisibleOnly pushes must be shown.
      payload = { title: "New message", body: event.data.text() };
    }
  }
  const title = typeof payload.title === "string" && payload.title ? payload.title : "New message";
  const tag = typeof payload.tag === "string" && payload.tag ? payload.tag : undefined;
  const options = {
    body: typeof payload.body === "string" ? payload.body : "",
    data: { url: typeof payload.url === "string" ? payload.url : "/", conversationId: payload.conversationId },
  };
  if (tag) {
    // One notification per conversation, replaced by the next, which alerts again.
    options.tag = tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  // Only ever open a page of this origin, whatever the payload says.
  let target = new URL("/", self.location.origin);
  try {
    const url = new URL(data.url || "/", self.location.origin);
    if (url.origin === self.location.origin) target = url;
  } catch {
    // Keep the origin's root.
  }
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (open) {
        // The app decides how to show the conversation (it may hold unsent drafts): tell it, then focus.
        open.postMessage({ type: "switchboard:notificationclick", conversationId: data.conversationId, url: target.href });
        await open.focus();
        return;
      }
      await self.clients.openWindow(target.href);
    })(),
  );
});
