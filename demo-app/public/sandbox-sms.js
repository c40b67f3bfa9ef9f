// The SMS sandbox page (/sandbox/sms): lists the texts the server "sent" with SMS_PROVIDER=sandbox,
// grouped per phone number (newest last), and sends texts as a phone user through
// POST /v1/sandbox/sms/inbound. Plain DOM code, served as a file: the page's CSP allows no inline script.
"use strict";

(() => {
  const KEY_STORAGE = "switchboard.sandboxSms.apiKey";
  const REFRESH_MS = 2000;

  const $ = (id) => document.getElementById(id);
  const keyForm = $("key-form");
  const keyInput = $("key");
  const status = $("status");
  const threads = $("threads");
  const filterForm = $("filter-form");
  const phoneFilter = $("phone-filter");
  const replyForm = $("reply-form");
  const replyFrom = $("reply-from");
  const replyTo = $("reply-to");
  const replyBody = $("reply-body");
  const replyResult = $("reply-result");

  let timer;
  let lastRendered = "";

  const apiKey = () => sessionStorage.getItem(KEY_STORAGE) || "";

  function say(element, text, isError) {
    element.textContent = text;
    element.classList.toggle("error", Boolean(isError));
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${apiKey()}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(json.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${response.status}`);
    return json;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** One box per phone number, the most recently active first; texts oldest first. */
  function render(texts, ourNumbers) {
    const fingerprint = JSON.stringify(texts);
    if (fingerprint === lastRendered) return;
    lastRendered = fingerprint;
    const byPhone = new Map();
    for (const text of texts) {
      const phone = text.direction === "outbound" ? text.to : text.from;
      if (!byPhone.has(phone)) byPhone.set(phone, []);
      byPhone.get(phone).push(text);
    }
    const groups = [...byPhone.entries()].sort((a, b) => (a[1].at(-1).at < b[1].at(-1).at ? 1 : -1));
    threads.replaceChildren();
    if (groups.length === 0) {
      threads.append(element("p", "", "No texts yet."));
      return;
    }
    for (const [phone, list] of groups) {
      const box = element("article", "thread");
      const head = element("h3", "", phone);
      const answer = element("button", "", "Answer as this phone");
      answer.type = "button";
      answer.addEventListener("click", () => {
        replyFrom.value = phone;
        const last = list.at(-1);
        const ours = last.direction === "outbound" ? last.from : last.to;
        if (ourNumbers.includes(ours)) replyTo.value = ours;
        replyBody.focus();
      });
      head.append(answer);
      box.append(head);
      const ul = element("ul", "texts");
      for (const text of list) {
        const li = element("li", text.direction, text.body);
        li.append(element("span", "meta", `${new Date(text.at).toLocaleString()} · ${text.from} → ${text.to} · ${text.status} · ${text.sid}`));
        ul.append(li);
      }
      box.append(ul);
      threads.append(box);
    }
  }

  async function refresh() {
    clearTimeout(timer);
    if (!apiKey()) return;
    try {
      const phone = phoneFilter.value.trim();
      const { texts, ourNumbers } = await api("GET", `/v1/sandbox/sms${phone ? `?phone=${encodeURIComponent(phone)}` : ""}`);
      render(texts, ourNumbers);
      say(status, `Signed in. Showing ${texts.length} text(s); refreshed every ${REFRESH_MS / 1000} s.`);
      timer = setTimeout(refresh, REFRESH_MS);
    } catch (err) {
      say(status, `Could not list the texts: ${err.message}`, true);
    }
  }

  keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, keyInput.value.trim());
    keyInput.value = "";
    lastRendered = "";
    refresh();
  });

  $("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    clearTimeout(timer);
    lastRendered = "";
    threads.replaceChildren(element("p", "", "Enter an admin API key to see the texts."));
    say(status, "Key forgotten.");
  });

  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    lastRendered = "";
    refresh();
  });

  replyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!apiKey()) {
      say(replyResult, "Enter an admin API key first.", true);
      return;
    }
    try {
      const result = await api("POST", "/v1/sandbox/sms/inbound", { from: replyFrom.value.trim(), to: replyTo.value, body: replyBody.value });
      replyBody.value = "";
      say(replyResult, result.reply ? `Sent. The server answered: ${result.reply}` : "Sent.");
      refresh();
    } catch (err) {
      say(replyResult, `Not sent: ${err.message}`, true);
    }
  });

  if (apiKey()) refresh();
})();
