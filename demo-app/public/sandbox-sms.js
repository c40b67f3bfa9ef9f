// The SMS sandbox page (/sandbox/sms): lists the texts the server "sent" with SMS_PROVIDER=sandbox,
// grouped per phone number (newest last), with the pictures of an MMS, and sends texts and pictures
// as a phone user through POST /v1/sandbox/sms/inbound. Plain DOM code, served as a file: the page's
// CSP allows no inline script (and images from this origin only).
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
  const replyMedia = $("reply-media");
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
        if (text.mediaUrls && text.mediaUrls.length) {
          const pictures = element("div", "media");
          text.mediaUrls.forEach((url, i) => {
            const img = element("img");
            img.src = sameOrigin(url);
            img.alt = `picture ${i + 1} of ${text.mediaUrls.length}`;
            img.loading = "lazy";
            pictures.append(img);
          });
          li.append(pictures);
        }
        const kind = text.mediaUrls && text.mediaUrls.length ? ` · MMS, ${text.mediaUrls.length} picture(s)` : "";
        li.append(element("span", "meta", `${new Date(text.at).toLocaleString()} · ${text.from} → ${text.to} · ${text.status}${kind} · ${text.sid}`));
        ul.append(li);
      }
      box.append(ul);
      threads.append(box);
    }
  }

  /**
   * A media URL as a path of this origin: the server signs them on PUBLIC_URL, which may name this
   * server differently (localhost vs 127.0.0.1), and the CSP loads images from this origin only.
   */
  function sameOrigin(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.pathname + parsed.search;
    } catch {
      return "";
    }
  }

  /** A picture chosen in the file input, as the API takes it: base64 with its type and name. */
  function readFile(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => {
        const dataUrl = String(reader.result);
        resolve({ data: dataUrl.slice(dataUrl.indexOf(",") + 1), ...(file.type ? { contentType: file.type } : {}), name: file.name });
      };
      reader.onerror = () => reject(new Error(`could not read ${file.name}`));
      reader.readAsDataURL(file);
    });
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
      const media = await Promise.all([...replyMedia.files].map(readFile));
      if (!replyBody.value.trim() && media.length === 0) {
        say(replyResult, "Type a text or choose a picture.", true);
        return;
      }
      const result = await api("POST", "/v1/sandbox/sms/inbound", {
        from: replyFrom.value.trim(),
        to: replyTo.value,
        body: replyBody.value,
        ...(media.length ? { media } : {}),
      });
      replyBody.value = "";
      replyMedia.value = "";
      say(replyResult, result.reply ? `Sent. The server answered: ${result.reply}` : "Sent.");
      refresh();
    } catch (err) {
      say(replyResult, `Not sent: ${err.message}`, true);
    }
  });

  if (apiKey()) refresh();
})();
