import { SwitchboardClientError, type AttachmentInput, type Message, type SendOptions } from "@switchboard/client-sdk";
import { useMemo, useSyncExternalStore } from "react";
import { SERVER_CONNECTION, type ConnectionSnapshot } from "./connection-store.js";
import { SERVER_CONVERSATIONS, type ConversationsSnapshot } from "./conversation-list-store.js";
import {
  SERVER_MESSAGES,
  SERVER_RECEIPTS,
  SERVER_TYPING,
  type MessagesSnapshot,
  type ReceiptsSnapshot,
  type TypingSnapshot,
} from "./conversation-store.js";
import { SERVER_PRESENCE, type PresenceSnapshot } from "./presence-store.js";
import { registryOf } from "./store-registry.js";
import { useChatClient } from "./switchboard-provider.js";
import { SERVER_THREAD, type ThreadSnapshot } from "./thread-store.js";

/** What {@link useMessages} returns: the snapshot and the actions on the conversation. */
export interface UseMessagesResult extends MessagesSnapshot {
  /** Queues a message; it shows in `pending` at once and in `messages` once stored. */
  send(text: string, options?: SendOptions): Promise<Message>;
  /** Edits one of the user's own messages; not queued (rejects with `unavailable` offline). */
  edit(messageId: string, text: string, options?: { attachments?: AttachmentInput[] }): Promise<Message>;
  /** Deletes one of the user's own messages; not queued. */
  deleteMessage(messageId: string): Promise<Message>;
  /** Adds the user's reaction (one emoji or a `:shortcode:`). */
  react(messageId: string, emoji: string): Promise<Message>;
  /** Takes the user's reaction back. */
  unreact(messageId: string, emoji: string): Promise<Message>;
  /** Reads the page before the oldest held message; resolves with whether more may exist. */
  loadOlder(limit?: number): Promise<boolean>;
  /** Marks the conversation read up to `seq` (default: the newest delivered message). */
  markRead(seq?: number): Promise<void>;
}

/** What {@link useThread} returns. */
export interface UseThreadResult extends ThreadSnapshot {
  /** Posts a reply into the thread. */
  send(text: string, options?: Omit<SendOptions, "threadId">): Promise<Message>;
  /** Reads the page of replies before the oldest held one. */
  loadOlder(limit?: number): Promise<boolean>;
}

/** What {@link useTyping} returns. */
export interface UseTypingResult {
  /** Who is typing now (the current user excluded), in the order they started. */
  typingUserIds: TypingSnapshot;
  /** Call with `true` on every keystroke (throttled to one event per ~3 s) and `false` on send or blur. */
  setTyping(isTyping: boolean): void;
}

/** What {@link useReadReceipts} returns. */
export interface UseReadReceiptsResult {
  /** Each member's read position: user id → the highest `seq` they read. */
  readUpTo: ReceiptsSnapshot;
  /** Marks the conversation read up to `seq` (default: the newest delivered message). */
  markRead(seq?: number): Promise<void>;
}

/** What {@link useConversations} returns. */
export interface UseConversationsResult extends ConversationsSnapshot {
  /** Reads the list again from the server. */
  refresh(): Promise<void>;
}

/**
 * The client's connection state and why it is in it; re-renders on every transition only.
 * `disconnected` on the server.
 */
export function useConnectionState(): ConnectionSnapshot {
  const client = useChatClient();
  const store = client ? registryOf(client).connection : undefined;
  return useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getSnapshot ?? serverConnection, serverConnection);
}

/**
 * The user's conversations with unread counts, most recent activity first. Read when first
 * used and after each reconnect; kept current live from the conversations this client has
 * joined (for example through {@link useMessages}) and from the user's read receipts.
 */
export function useConversations(): UseConversationsResult {
  const client = useChatClient();
  const store = client ? registryOf(client).conversations : undefined;
  const snapshot = useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getSnapshot ?? serverConversations, serverConversations);
  return useMemo(() => ({ ...snapshot, refresh: store?.refresh ?? notReady }), [snapshot, store]);
}

/**
 * The messages of a conversation, joined while any component uses it (left when the last one
 * unmounts): stored messages outside threads in `seq` order, sends waiting in the outbox as
 * `pending`, edits, deletions, reactions and reply counts as they happen, and `loadOlder()` for
 * history. Re-renders only when this conversation's messages, outbox or status changed; an
 * unchanged message keeps its object, so `memo` rows skip re-rendering.
 */
export function useMessages(conversationId: string): UseMessagesResult {
  const client = useChatClient();
  const store = client ? registryOf(client).conversation(conversationId) : undefined;
  const snapshot = useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getMessages ?? serverMessages, serverMessages);
  return useMemo(
    () => ({
      ...snapshot,
      send: store?.send ?? notReady,
      edit: store?.edit ?? notReady,
      deleteMessage: store?.deleteMessage ?? notReady,
      react: store?.react ?? notReady,
      unreact: store?.unreact ?? notReady,
      loadOlder: store?.loadOlder ?? notReady,
      markRead: store?.markRead ?? notReady,
    }),
    [snapshot, store],
  );
}

/**
 * The replies under message `threadId`: the thread's newest page when first used, older
 * pages with `loadOlder()`, live replies, edits and reactions. Holds the conversation's join
 * like {@link useMessages}.
 */
export function useThread(conversationId: string, threadId: string): UseThreadResult {
  const client = useChatClient();
  const store = client ? registryOf(client).thread(conversationId, threadId) : undefined;
  const snapshot = useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getSnapshot ?? serverThread, serverThread);
  return useMemo(() => ({ ...snapshot, send: store?.send ?? notReady, loadOlder: store?.loadOlder ?? notReady }), [snapshot, store]);
}

/** Who is typing in a conversation, and `setTyping` to announce the user's own typing. Holds the join. */
export function useTyping(conversationId: string): UseTypingResult {
  const client = useChatClient();
  const store = client ? registryOf(client).conversation(conversationId) : undefined;
  const typingUserIds = useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getTyping ?? serverTyping, serverTyping);
  return useMemo(() => ({ typingUserIds, setTyping: store?.setTyping ?? noop }), [typingUserIds, store]);
}

/** Each member's read position in a conversation (from the join and live receipts). Holds the join. */
export function useReadReceipts(conversationId: string): UseReadReceiptsResult {
  const client = useChatClient();
  const store = client ? registryOf(client).conversation(conversationId) : undefined;
  const readUpTo = useSyncExternalStore(store?.subscribe ?? noSubscribe, store?.getReceipts ?? serverReceipts, serverReceipts);
  return useMemo(() => ({ readUpTo, markRead: store?.markRead ?? notReady }), [readUpTo, store]);
}

/**
 * The presence of `userIds` (at most `LIMITS.presenceQueryMax` are queried per round trip),
 * by user id; a user whose presence is not known yet is absent. Queried when first watched
 * and after every reconnect, then updated live. Re-renders only when one of these users changed.
 */
export function usePresence(userIds: readonly string[]): PresenceSnapshot {
  const client = useChatClient();
  const store = client ? registryOf(client).presence : undefined;
  // Keyed by content: a new array with the same ids each render must not resubscribe.
  const key = JSON.stringify(userIds);
  const ids = useMemo(() => [...new Set(JSON.parse(key) as string[])], [key]);
  const { subscribe, getSnapshot } = useMemo(() => {
    if (!store) return { subscribe: noSubscribe, getSnapshot: serverPresence };
    let last: PresenceSnapshot = SERVER_PRESENCE;
    return {
      subscribe: (listener: () => void) => {
        const unsubscribe = store.subscribe(listener);
        const unwatch = store.watch(ids);
        return () => {
          unwatch();
          unsubscribe();
        };
      },
      getSnapshot: (): PresenceSnapshot => {
        let changed = Object.keys(last).length !== ids.filter((id) => store.get(id)).length;
        const next: Record<string, NonNullable<ReturnType<typeof store.get>>> = {};
        for (const id of ids) {
          const info = store.get(id);
          if (!info) continue;
          next[id] = info;
          if (last[id] !== info) changed = true;
        }
        if (changed) last = next;
        return last;
      },
    };
  }, [store, ids]);
  return useSyncExternalStore(subscribe, getSnapshot, serverPresence);
}

const noSubscribe = (): (() => void) => noop;
const noop = (): void => undefined;
const serverConnection = (): ConnectionSnapshot => SERVER_CONNECTION;
const serverConversations = (): ConversationsSnapshot => SERVER_CONVERSATIONS;
const serverMessages = (): MessagesSnapshot => SERVER_MESSAGES;
const serverThread = (): ThreadSnapshot => SERVER_THREAD;
const serverTyping = (): TypingSnapshot => SERVER_TYPING;
const serverReceipts = (): ReceiptsSnapshot => SERVER_RECEIPTS;
const serverPresence = (): PresenceSnapshot => SERVER_PRESENCE;

/** The actions of a provider whose client does not exist yet (server, first render). */
function notReady(): Promise<never> {
  return Promise.reject(
    new SwitchboardClientError("unavailable", "the Switchboard client is not created yet: call actions from effects or event handlers, not during render"),
  );
}
