import { createElement, version as reactVersion, type ReactNode } from "react";
import { version as reactDomVersion } from "react-dom";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ChatClient, type SocketFactory } from "../client-sdk/src/index.js";
import {
  SwitchboardProvider,
  useConnectionState,
  useConversations,
  useMessages,
  usePresence,
  useReadReceipts,
  useThread,
  useTyping,
} from "../react/src/index.js";

function Page(): ReactNode {
  const connection = useConnectionState();
  const { messages, pending, status } = useMessages("c1");
  const { replies } = useThread("c1", "m1");
  const { typingUserIds } = useTyping("c1");
  const { readUpTo } = useReadReceipts("c1");
  const { conversations, loading } = useConversations();
  const presence = usePresence(["bob"]);
  return createElement(
    "main",
    null,
    `${connection.state}|${status}|${messages.length}+${pending.length}|${replies.length}|${typingUserIds.length}|` +
      `${Object.keys(readUpTo).length}|${loading ? "loading" : conversations.length}|${presence.bob?.status ?? "unknown"}`,
  );
}

describe("React hooks in server-side rendering", () => {
  it("runs on the React major version of its vitest project", () => {
    // The dom-react18 / ssr-react18 projects alias React 18; the others use the React 19 devDependency.
    const major = process.env.SWITCHBOARD_REACT_MAJOR ?? "19";
    expect(reactVersion.split(".")[0]).toBe(major);
    expect(reactDomVersion.split(".")[0]).toBe(major);
  });

  it("renders with a provider that owns its client without creating it, so no socket is opened", () => {
    let sockets = 0;
    const io: SocketFactory = () => {
      sockets++;
      throw new Error("no socket may be created while rendering on the server");
    };
    const html = renderToString(
      createElement(SwitchboardProvider, {
        options: { url: "http://127.0.0.1:9", getToken: () => "unused", io },
        children: createElement(Page),
      }),
    );
    expect(html).toBe("<main>disconnected|joining|0+0|0|0|0|loading|unknown</main>");
    expect(sockets).toBe(0);
  });

  it("renders with a client passed in without connecting it, joining or attaching a listener", () => {
    // Nothing listens on port 9 (discard): a connection attempt would fail, but none may be made.
    const client = new ChatClient({ url: "http://127.0.0.1:9", getToken: () => "unused" });
    const html = renderToString(createElement(SwitchboardProvider, { client, children: createElement(Page) }));
    expect(html).toBe("<main>disconnected|joining|0+0|0|0|0|loading|unknown</main>");
    expect(client.state).toBe("disconnected");
    expect(client.listenerCount()).toBe(0);
    expect(client.conversation("c1").listenerCount()).toBe(0);
    expect(client.conversation("c1").joined).toBe(false);
  });
});
