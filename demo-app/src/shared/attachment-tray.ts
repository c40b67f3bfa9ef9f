import { SwitchboardClientError, uploadFile, type Upload } from "../../../client-sdk/src/index.js";
import { h, icon, ICONS } from "./dom.js";
import { formatSize, type ReplyTarget } from "./message-content.js";

/** Where the tray uploads to, as the page's chat client. */
export interface AttachmentTrayOptions {
  serverUrl: string;
  getToken: () => Promise<string>;
  /** Most files one message takes (`LIMITS.attachmentsMax`). */
  max: number;
}

interface Item {
  file: File;
  chip: HTMLLIElement;
  progress: HTMLProgressElement;
  abort: AbortController;
  /** Settles with the upload, or undefined when it failed or was removed. */
  done: Promise<Upload | undefined>;
}

/**
 * The files waiting to go with the next message, shared by the widget and the console. Files
 * come from the paperclip button, a pasted image or a drop; each uploads at once (through the
 * SDK's `uploadFile`) and shows as a chip with its progress and a remove button. A refused file
 * becomes a readable error line. {@link take} waits for the uploads and empties the tray.
 */
export class AttachmentTray {
  /** The chips and the error line, above the composer. */
  readonly element: HTMLDivElement;
  /** The paperclip button, for the composer. */
  readonly button: HTMLButtonElement;
  private readonly list = h("ul", { class: "attachment-tray" });
  private readonly error = h("div", { class: "attach-error", role: "alert", hidden: true });
  private readonly input = h("input", { type: "file", multiple: true, hidden: true, tabindex: -1, "aria-hidden": "true" });
  private readonly items = new Set<Item>();

  constructor(private readonly options: AttachmentTrayOptions) {
    this.list.hidden = true;
    this.element = h("div", { class: "attachments-pending" }, this.list, this.error, this.input);
    this.button = h("button", { class: "attach", type: "button", "aria-label": "Attach a file", title: "Attach a file" }, icon(ICONS.attach));
    this.button.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => {
      this.add(Array.from(this.input.files ?? []));
      this.input.value = "";
    });
  }

  /** True while files are in the tray (uploading or uploaded). */
  get hasFiles(): boolean {
    return this.items.size > 0;
  }

  /** Takes pasted images from `composer` and dropped files on `dropZone` (which gets `drop-active` while dragged over). */
  listen(composer: HTMLElement, dropZone: HTMLElement): void {
    composer.addEventListener("paste", (event) => {
      const files = Array.from(event.clipboardData?.files ?? []);
      if (files.length === 0) return;
      // A pasted picture becomes an attachment; pasted text stays text.
      event.preventDefault();
      this.add(files);
    });
    let depth = 0;
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes("Files") ?? false;
    dropZone.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth++;
      dropZone.classList.add("drop-active");
    });
    dropZone.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer!.dropEffect = "copy";
    });
    dropZone.addEventListener("dragleave", () => {
      // Leaving a child fires dragleave too: only the last one ends the highlight.
      depth = Math.max(0, depth - 1);
      if (depth === 0) dropZone.classList.remove("drop-active");
    });
    dropZone.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      dropZone.classList.remove("drop-active");
      this.add(Array.from(event.dataTransfer?.files ?? []));
    });
  }

  /** Starts uploading `files` (beyond the per-message maximum they are refused with a line). */
  add(files: File[]): void {
    this.showError("");
    for (const file of files) {
      if (this.items.size >= this.options.max) {
        this.showError(`At most ${this.options.max} files go with one message.`);
        break;
      }
      this.upload(file);
    }
  }

  /**
   * Waits for every upload, then empties the tray and gives what to attach. Uploads that failed
   * were already dropped with their error line.
   */
  async take(): Promise<{ uploadId: string }[]> {
    const items = [...this.items];
    const uploads = await Promise.all(items.map((i) => i.done));
    for (const item of items) this.remove(item, false);
    return uploads.filter((u): u is Upload => u !== undefined).map((u) => ({ uploadId: u.uploadId }));
  }

  private upload(file: File): void {
    const progress = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name || "file"}` });
    const remove = h("button", { class: "chip-remove", type: "button", "aria-label": `Remove ${file.name || "file"}` }, "×");
    const chip = h(
      "li",
      { class: "chip uploading" },
      h("span", { class: "chip-name" }, file.name || "Pasted image"),
      h("span", { class: "chip-size" }, formatSize(file.size)),
      progress,
      remove,
    );
    const abort = new AbortController();
    const item: Item = { file, chip, progress, abort, done: Promise.resolve(undefined) };
    item.done = uploadFile({
      serverUrl: this.options.serverUrl,
      getToken: this.options.getToken,
      file,
      ...(file.name ? { name: file.name } : {}),
      signal: abort.signal,
      onProgress: (loaded, total) => (progress.value = total > 0 ? loaded / total : 1),
    }).then(
      (upload) => {
        chip.classList.replace("uploading", "uploaded");
        progress.value = 1;
        return upload;
      },
      (err: unknown) => {
        if (!abort.signal.aborted) {
          this.remove(item, false);
          this.showError(describeUploadError(file, err));
        }
        return undefined;
      },
    );
    remove.addEventListener("click", () => this.remove(item, true));
    this.items.add(item);
    this.list.appendChild(chip);
    this.list.hidden = false;
  }

  private remove(item: Item, abort: boolean): void {
    if (abort) item.abort.abort();
    item.chip.remove();
    this.items.delete(item);
    this.list.hidden = this.items.size === 0;
  }

  private showError(text: string): void {
    this.error.textContent = text;
    this.error.hidden = text === "";
  }
}

/** A refused upload, said for people: what was wrong, and the server's reason where it helps. */
function describeUploadError(file: File, err: unknown): string {
  const error = SwitchboardClientError.from(err);
  const name = file.name || "The pasted image";
  switch (error.code) {
    case "payload_too_large":
      return `${name} is too large to send (${formatSize(file.size)}).`;
    case "invalid_argument":
      return `${name} cannot be sent: ${error.message}`;
    case "rate_limited":
      return `Too many files at once: try ${name} again in a moment.`;
    case "unauthorized":
    case "forbidden":
      return `${name} could not be uploaded: not allowed here.`;
    default:
      return `${name} could not be uploaded. Check the connection and try again.`;
  }
}

/** What the composer holds, ready for `handle.send(text, options)`. */
export interface ComposedMessage {
  text: string;
  options: { attachments?: { uploadId: string }[]; replyTo?: string };
}

/**
 * Takes what the composer holds (its text, the tray's files once uploaded, the reply target) and
 * clears it, or answers undefined when there is nothing to send: no text and no file, or every
 * file failed (its error line says why). Shared by the widget and the console.
 */
export async function takeComposed(input: HTMLTextAreaElement | HTMLInputElement, tray: AttachmentTray, replyTarget: ReplyTarget): Promise<ComposedMessage | undefined> {
  const text = input.value;
  if (!text.trim() && !tray.hasFiles) return undefined;
  const replyTo = replyTarget.value?.id;
  const attachments = await tray.take();
  if (!text.trim() && attachments.length === 0) return undefined;
  input.value = "";
  replyTarget.clear();
  return { text: text.trim() ? text : "", options: { ...(attachments.length ? { attachments } : {}), ...(replyTo ? { replyTo } : {}) } };
}
