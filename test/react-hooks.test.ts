import { act, cleanup, render, renderHook, screen, waitFor } from "@testing-library/react";
import { StrictMode, createElement, memo, useEffect, version as reactVersion, type ReactNode } from "react";
import { version as reactDomVersion } from "react-dom";
import { hydrateRoot } from "react-dom/client";
import { renderToString } from "react-dom/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChatClient, type Message } from "../client-sdk/src/index.js";
import {
  SwitchboardProvider,
  useChatClient,
  useConnectionState,
  useConversations,
  useMessages,
  usePresence,
  useReadReceipts,
  useThread,
  useTyping,
} from "../react/src/index.js";
import { api, mintToken, spawnServer, startProxy, tempDir, type SpawnedServer } from "./support/harness.js";

/** Polls through React's act environment; 10 s covers a reconnect with backoff and the presence grace. */
const eventually = (check: () => void, timeout = 10_000) => waitFor(check, { timeout, interval: 20 });

describe("React hooks against a real server", () => {
  let server: SpawnedServer;
  const data = tempDir();
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    // bob seeds whole pages of history: far more than the per-user message limit allows in 10 s.
    server = await spawnServer(data.dir, { RATE_LIMIT_MESSAGES: "100000" });
  });
  afterAll(async () => {
    await server.kill("SIGKILL");
    data.remove();
  });
  afterEach(async () => {
    cleanup();
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const client = (url: string, userId: string, connect = true): ChatClient => {
    const c = new ChatClient({ url, getToken: () => mintToken(userId), reconnect: { minDelayMs: 50, maxDelayMs: 300 } });
    cleanups.push(() => c.disconnect());
    if (connect) c.connect();
    return c;
  };
  const conversation = async (memberIds: string[]): Promise<string> => {
    const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const post = async (conversationId: string, senderId: string, text: string, extra: Record<string, unknown> = {}): Promise<Message> => {
    const res = await api(server.url, "POST", `/v1/conversations/${conversationId}/messages`, { senderId, text, ...extra });
    expect(res.status).toBe(201);
    return res.body as Message;
  };
  /** StrictMode on purpose: its double effects must not double joins or leak listeners. */
  const wrapperFor =
    (c: ChatClient) =>
    ({ children }: { children?: ReactNode }) =>
      createElement(StrictMode, null, createElement(SwitchboardProvider, { client: c }, children));

  it("runs on the React major version of its vitest project", () => {
    // The dom-react18 / ssr-react18 projects alias React 18; the others use the React 19 devDependency.
    const major = process.env.SWITCHBOARD_REACT_MAJOR ?? "19";
    expect(reactVersion.split(".")[0]).toBe(major);
    expect(reactDomVersion.split(".")[0]).toBe(major);
  });

  it("renders messages as they arrive and older pages on loadOlder()", async () => {
    const id = await conversation(["alice", "bob"]);
    for (let i = 1; i <= 120; i++) await post(id, "bob", `old ${i}`);
    const alice = client(server.url, "alice");

    function Room(): ReactNode {
      const { messages, hasOlder, loadOlder, loadingOlder, status } = useMessages(id);
      return createElement(
        "div",
        null,
        createElement("p", { "data-testid": "status" }, `${status} ${hasOlder ? "more" : "all"}${loadingOlder ? " loading" : ""}`),
        createElement("button", { onClick: () => void loadOlder(40) }, "older"),
        createElement("ul", null, ...messages.map((m) => createElement("li", { key: m.id }, m.text))),
      );
    }
    const texts = () => screen.queryAllByRole("listitem").map((li) => li.textContent);
    render(createElement(Room), { wrapper: wrapperFor(alice) });
    await eventually(() => expect(screen.getByTestId("status").textContent).toBe("joined more"));
    // The join brings the newest page only.
    const firstPage = texts();
    expect(firstPage.length).toBeLessThan(120);
    expect(firstPage.at(-1)).toBe("old 120");

    await post(id, "bob", "live one");
    await eventually(() => expect(screen.getByText("live one")).toBeTruthy());

    for (let pages = 0; screen.getByTestId("status").textContent !== "joined all"; pages++) {
      expect(pages).toBeLessThan(5);
      const before = texts().length;
      act(() => screen.getByText("older").click());
      await eventually(() => expect(texts().length).toBeGreaterThan(before));
      await eventually(() => expect(screen.getByTestId("status").textContent).not.toContain("loading"));
    }
    expect(texts()).toEqual([...Array.from({ length: 120 }, (_, i) => `old ${i + 1}`), "live one"]);
  });

  it("shows a message sent while offline as pending, then as stored once the connection is back", async () => {
    const id = await conversation(["alice", "bob"]);
    const proxy = await startProxy(server.port);
    cleanups.push(() => proxy.close());
    const alice = client(proxy.url, "alice");
    const { result } = renderHook(() => ({ room: useMessages(id), connection: useConnectionState() }), { wrapper: wrapperFor(alice) });
    await eventually(() => expect(result.current.room.status).toBe("joined"));
    expect(result.current.connection.state).toBe("connected");

    proxy.cut();
    await eventually(() => expect(result.current.connection.state).toBe("connecting"));
    let sent!: Promise<Message>;
    act(() => {
      sent = result.current.room.send("written offline");
    });
    expect(result.current.room.pending).toEqual([expect.objectContaining({ text: "written offline", status: "queued" })]);
    expect(result.current.room.messages).toEqual([]);
    const { clientMessageId } = result.current.room.pending[0]!;

    proxy.restore();
    const stored = await sent;
    await eventually(() => expect(result.current.room.messages).toEqual([stored]));
    expect(result.current.room.pending).toEqual([]);
    expect(stored).toMatchObject({ text: "written offline", senderId: "alice", clientMessageId });
    expect(result.current.connection).toMatchObject({ state: "connected", code: "connected" });
  });

  it("shows edits, deletions, reactions and thread replies, re-rendering only the rows that changed", async () => {
    const id = await conversation(["alice", "bob"]);
    const first = await post(id, "bob", "first");
    const second = await post(id, "bob", "second");
    const alice = client(server.url, "alice");
    const renders = new Map<string, number>();
    const Row = memo(function Row({ message }: { message: Message }): ReactNode {
      useEffect(() => {
        renders.set(message.id, (renders.get(message.id) ?? 0) + 1);
      });
      const reactions = (message.reactions ?? []).map((r) => `${r.emoji}${r.count}`).join("");
      return createElement("li", null, `${message.deleted ? "(deleted)" : message.text} ${reactions} ${message.replyCount ?? 0}`);
    });
    let listRenders = 0;
    function Room(): ReactNode {
      const { messages } = useMessages(id);
      useEffect(() => {
        listRenders++;
      });
      return createElement("ul", null, ...messages.map((m) => createElement(Row, { key: m.id, message: m })));
    }
    function Typing(): ReactNode {
      return createElement("p", null, useTyping(id).typingUserIds.join(","));
    }
    const { result } = renderHook(() => useThread(id, first.id), {
      wrapper: ({ children }) => createElement(wrapperFor(alice), null, createElement(Room), createElement(Typing), children),
    });
    await eventually(() => expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["first  0", "second  0"]));
    await eventually(() => expect(result.current.loaded).toBe(true));
    const firstRenders = renders.get(first.id)!;

    await api(server.url, "PATCH", `/v1/conversations/${id}/messages/${second.id}`, { text: "second, edited" });
    await eventually(() => expect(screen.getByText("second, edited 0")).toBeTruthy());
    await api(server.url, "POST", `/v1/conversations/${id}/messages/${second.id}/reactions`, { userId: "bob", emoji: "👍" });
    await eventually(() => expect(screen.getByText("second, edited 👍1 0")).toBeTruthy());
    // Two versions of the second message, none of the first: its row never re-rendered.
    expect(renders.get(first.id)).toBe(firstRenders);

    const reply = await post(id, "bob", "in the thread", { threadId: first.id });
    await eventually(() => expect(result.current.replies).toEqual([reply]));
    // The reply stays out of the main list; its parent counts it.
    await eventually(() => expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["first  1", "second, edited 👍1 0"]));
    expect(result.current.parent).toMatchObject({ id: first.id, replyCount: 1 });
    await act(() => result.current.send("alice answers in the thread"));
    await eventually(() => expect(result.current.replies.map((m) => m.text)).toEqual(["in the thread", "alice answers in the thread"]));

    await api(server.url, "DELETE", `/v1/conversations/${id}/messages/${second.id}`);
    await eventually(() => expect(screen.getByText("(deleted) 0")).toBeTruthy());

    // Typing in the same conversation re-renders the typing line, not the message list.
    const bob = client(server.url, "bob");
    const bobRoom = bob.conversation(id);
    await bobRoom.join();
    const before = listRenders;
    bobRoom.startTyping();
    await eventually(() => expect(screen.getByText("bob")).toBeTruthy());
    expect(listRenders).toBe(before);
  });

  it("reads a long thread newest page first, then older replies with loadOlder()", async () => {
    const id = await conversation(["alice", "bob"]);
    const parent = await post(id, "bob", "parent");
    for (let i = 1; i <= 60; i++) await post(id, "bob", `reply ${i}`, { threadId: parent.id });
    // Push the parent and the first replies out of the join's page (the newest 100 messages).
    await Promise.all(Array.from({ length: 45 }, (_, i) => post(id, "bob", `filler ${i}`)));
    const alice = client(server.url, "alice");
    const { result } = renderHook(() => useThread(id, parent.id), { wrapper: wrapperFor(alice) });
    await eventually(() => expect(result.current.loaded).toBe(true));
    expect(result.current.hasOlder).toBe(true);
    const first = result.current.replies.map((m) => m.text);
    expect(first.length).toBeLessThan(60);
    expect(first.at(-1)).toBe("reply 60");
    // The parent is older than anything the conversation's handle holds.
    expect(result.current.parent).toBeUndefined();

    await act(() => result.current.loadOlder(20));
    expect(result.current.hasOlder).toBe(false);
    expect(result.current.replies.map((m) => m.text)).toEqual(Array.from({ length: 60 }, (_, i) => `reply ${i + 1}`));
  });

  it("shows who is typing, who is online, and how far each member has read", async () => {
    const id = await conversation(["alice", "bob", "carol"]);
    const alice = client(server.url, "alice");
    const bob = client(server.url, "bob");
    const bobRoom = bob.conversation(id);
    await bobRoom.join();
    const { result } = renderHook(
      () => ({ typing: useTyping(id), presence: usePresence(["bob", "carol"]), receipts: useReadReceipts(id) }),
      { wrapper: wrapperFor(alice) },
    );
    await eventually(() => expect(result.current.presence).toEqual({ bob: { status: "online" }, carol: expect.objectContaining({ status: "offline" }) }));

    bobRoom.startTyping();
    await eventually(() => expect(result.current.typing.typingUserIds).toEqual(["bob"]));
    bobRoom.stopTyping();
    await eventually(() => expect(result.current.typing.typingUserIds).toEqual([]));

    await eventually(() => expect(result.current.receipts.readUpTo).toEqual({ alice: 0, bob: 0, carol: 0 }));
    // Sending reads up to the message sent: the server moves the sender's position silently.
    const message = await bobRoom.send("read me");
    await eventually(() => expect(result.current.receipts.readUpTo).toEqual({ alice: 0, bob: message.seq, carol: 0 }));
    await act(() => result.current.receipts.markRead(message.seq));
    await eventually(() => expect(result.current.receipts.readUpTo).toEqual({ alice: message.seq, bob: message.seq, carol: 0 }));
    // carol reads elsewhere (over HTTP): the receipt reaches alice live.
    await api(server.url, "POST", `/v1/conversations/${id}/read`, { userId: "carol", seq: message.seq });
    await eventually(() => expect(result.current.receipts.readUpTo.carol).toBe(message.seq));

    // Alice types: bob's handle hears it, alice's own hook does not list herself.
    const bobHeard: string[] = [];
    bobRoom.on("typing", (e) => e.isTyping && bobHeard.push(e.userId));
    act(() => result.current.typing.setTyping(true));
    await eventually(() => expect(bobHeard).toEqual(["alice"]));
    expect(result.current.typing.typingUserIds).toEqual([]);

    bob.disconnect();
    await eventually(() => expect(result.current.presence.bob).toMatchObject({ status: "offline" }));
  });

  it("lists conversations with unread counts that follow new messages and reads", async () => {
    const quiet = await conversation(["alice", "carol"]);
    await post(quiet, "carol", "older news");
    const busy = await conversation(["alice", "bob"]);
    const alice = client(server.url, "alice");
    let quietRenders = 0;
    function QuietRoom(): ReactNode {
      const { status } = useMessages(quiet);
      useEffect(() => {
        quietRenders++;
      });
      return createElement("p", { "data-testid": "quiet" }, status);
    }
    const { result } = renderHook(() => ({ list: useConversations(), room: useMessages(busy) }), {
      wrapper: ({ children }) => createElement(wrapperFor(alice), null, createElement(QuietRoom), children),
    });
    await eventually(() => expect(result.current.room.status).toBe("joined"));
    await eventually(() => expect(screen.getByTestId("quiet").textContent).toBe("joined"));
    const quietRendersBefore = quietRenders;
    await eventually(() => expect(result.current.list.loading).toBe(false));
    const summary = (cid: string) => result.current.list.conversations.find((s) => s.conversation.id === cid);
    expect(summary(quiet)).toMatchObject({ unreadCount: 1, lastMessage: { text: "older news" } });
    expect(summary(busy)).toMatchObject({ unreadCount: 0 });

    await post(busy, "bob", "one");
    const two = await post(busy, "bob", "two");
    await eventually(() => expect(summary(busy)).toMatchObject({ unreadCount: 2, lastMessage: { text: "two" } }));
    // Most recent activity first.
    expect(result.current.list.conversations[0]!.conversation.id).toBe(busy);
    // Messages in one conversation do not re-render a component reading another.
    expect(quietRenders).toBe(quietRendersBefore);
    const quietSummary = summary(quiet);

    await act(() => result.current.room.markRead(two.seq));
    await eventually(() => expect(summary(busy)).toMatchObject({ unreadCount: 0 }));
    // The other conversation's summary is the same object: rows keyed on it need not re-render.
    expect(summary(quiet)).toBe(quietSummary);
    // What the server says agrees.
    await act(() => result.current.list.refresh());
    expect(summary(busy)).toMatchObject({ unreadCount: 0 });
    expect(summary(quiet)).toBe(quietSummary);
  });

  it("hydrates server-rendered HTML without a mismatch, then shows the live conversation", async () => {
    const id = await conversation(["alice", "bob"]);
    await post(id, "bob", "already there");
    function Page(): ReactNode {
      const { state } = useConnectionState();
      const { messages } = useMessages(id);
      return createElement("p", null, `${state}: ${messages.map((m) => m.text).join(", ")}`);
    }
    const page = (c: ChatClient) => createElement(SwitchboardProvider, { client: c, children: createElement(Page) });
    const html = renderToString(page(client(server.url, "alice", false)));
    expect(html).toBe("<p>disconnected: </p>");

    const container = document.createElement("div");
    container.innerHTML = html;
    document.body.append(container);
    cleanups.push(() => container.remove());
    const browserClient = client(server.url, "alice");
    const recoverable: unknown[] = [];
    let root!: ReturnType<typeof hydrateRoot>;
    act(() => {
      root = hydrateRoot(container, page(browserClient), { onRecoverableError: (err) => recoverable.push(err) });
    });
    cleanups.push(() => act(() => root.unmount()));
    await eventually(() => expect(container.textContent).toBe("connected: already there"));
    expect(recoverable).toEqual([]);
  });

  it("leaves no listener, join or socket behind when the provider that owns the client unmounts", async () => {
    const id = await conversation(["alice", "bob"]);
    const bob = client(server.url, "bob");
    let owned: ChatClient | null = null;
    function Everything(): ReactNode {
      owned = useChatClient();
      const connection = useConnectionState();
      const { messages, status } = useMessages(id);
      useTyping(id);
      useReadReceipts(id);
      useConversations();
      usePresence(["bob"]);
      return createElement("p", { "data-testid": "state" }, `${connection.state} ${status} ${messages.length}`);
    }
    const view = render(
      createElement(
        StrictMode,
        null,
        createElement(SwitchboardProvider, {
          options: { url: server.url, getToken: () => mintToken("alice"), reconnect: { minDelayMs: 50, maxDelayMs: 300 } },
          children: createElement(Everything),
        }),
      ),
    );
    await eventually(() => expect(screen.getByTestId("state").textContent).toBe("connected joined 0"));
    await eventually(async () => expect(await bob.queryPresence(["alice"])).toMatchObject({ alice: { status: "online" } }));
    const client_ = owned as ChatClient | null;
    expect(client_).not.toBeNull();
    const handle = client_!.conversation(id);
    expect(client_!.listenerCount()).toBeGreaterThan(0);
    expect(handle.listenerCount()).toBeGreaterThan(0);

    view.unmount();
    await eventually(() => {
      expect(client_!.listenerCount()).toBe(0);
      expect(handle.listenerCount()).toBe(0);
      expect(client_!.state).toBe("disconnected");
    });
    // The server saw the socket go: alice is offline for bob once the grace period is over.
    await eventually(async () => expect(await bob.queryPresence(["alice"])).toMatchObject({ alice: { status: "offline" } }));
  });

  it("leaves the conversation and removes its listeners when the last component reading a client it does not own unmounts", async () => {
    const id = await conversation(["alice", "bob"]);
    const alice = client(server.url, "alice");
    const handle = alice.conversation(id);
    const baseline = alice.listenerCount();
    const first = renderHook(() => useMessages(id), { wrapper: wrapperFor(alice) });
    const second = renderHook(() => useTyping(id), { wrapper: wrapperFor(alice) });
    await eventually(() => expect(first.result.current.status).toBe("joined"));
    expect(handle.joined).toBe(true);

    first.unmount();
    // Still read by the other component: still joined.
    await post(id, "bob", "still here");
    await eventually(() => expect(handle.messages.map((m) => m.text)).toEqual(["still here"]));
    expect(handle.joined).toBe(true);

    second.unmount();
    await eventually(() => {
      expect(handle.joined).toBe(false);
      expect(handle.listenerCount()).toBe(0);
      expect(alice.listenerCount()).toBe(baseline);
    });
    // The application's client stays connected: the provider does not own it.
    expect(alice.state).toBe("connected");
  });
});
