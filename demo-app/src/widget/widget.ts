import { SupportWidget } from "./support-widget.js";
import { WidgetSession, type WidgetIdentity } from "./widget-session.js";

/**
 * The embeddable support widget's entry point. One tag on any page:
 *
 *   <script src="https://chat.example.com/assets/widget.js" data-widget-key="wk_…" async></script>
 *
 * Optional attributes: `data-title` (the panel's title); for a logged-in customer,
 * `data-user-id`, `data-user-hash` (HMAC-SHA256 of the id with the key's identity secret,
 * computed by your backend) and `data-user-name`; `data-server` when the chat server is not
 * where the script came from.
 */

// Captured at once: currentScript is only set while this script first runs.
const script = (document.currentScript as HTMLScriptElement | null) ?? document.querySelector<HTMLScriptElement>("script[data-widget-key]");

function boot(tag: HTMLScriptElement): void {
  const widgetKey = tag.dataset.widgetKey;
  if (!widgetKey) {
    console.error("Switchboard widget: the <script> tag needs data-widget-key.");
    return;
  }
  const serverUrl = (tag.dataset.server ?? new URL(tag.src, location.href).origin).replace(/\/+$/, "");
  const { userId, userHash, userName } = tag.dataset;
  const identity: WidgetIdentity | undefined = userId && userHash ? { userId, userHash, ...(userName ? { name: userName } : {}) } : undefined;
  const widget = new SupportWidget(new WidgetSession(serverUrl, widgetKey, identity), {
    serverUrl,
    ...(tag.dataset.title ? { title: tag.dataset.title } : {}),
  });
  widget.mount();
}

if (script) {
  if (document.body) boot(script);
  else document.addEventListener("DOMContentLoaded", () => boot(script), { once: true });
} else {
  console.error("Switchboard widget: could not find its <script data-widget-key> tag.");
}
