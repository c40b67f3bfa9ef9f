/**
 * DOM building for the demo app. Text only ever enters the page as text nodes (`textContent`):
 * nothing here parses HTML, so a message such as `<img src=x onerror=…>` is shown, never run.
 * No inline styles or handlers either, so the pages live under `script-src 'self'; style-src 'self'`.
 */

/** Attributes {@link h} sets; `class` is a space-separated list, booleans toggle the attribute. */
export type Attributes = Record<string, string | number | boolean | undefined>;

/** A child: a node, text (added as a text node), or nothing. */
export type Child = Node | string | number | false | null | undefined;

/** Creates `<tag>` with attributes and children. Event handlers are attached with `on()`, never as attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    // Handlers as attributes are inline scripts: refused by the CSP, and never needed here.
    if (name.startsWith("on")) throw new Error(`h(): set ${name} with addEventListener`);
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

/** Appends children, strings as text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    parent.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** An SVG icon from path data (24×24 viewBox); built with the DOM, not markup. */
export function icon(pathData: string, label?: string): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "24");
  svg.setAttribute("height", "24");
  svg.setAttribute("fill", "currentColor");
  if (label) svg.setAttribute("aria-label", label);
  else svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", pathData);
  svg.appendChild(path);
  return svg;
}

/** Material-style icon paths used by the widget and the console. */
export const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2zm3 5v2h10V9H7zm0 4v2h7v-2H7z",
  close: "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z",
  send: "M2 21 23 12 2 3v7l15 2-15 2z",
  attach: "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z",
} as const;
