/**
 * React bindings for Switchboard: a provider around the client SDK's `ChatClient` and hooks
 * built on `useSyncExternalStore`, one store per conversation, safe for server rendering.
 *
 * @packageDocumentation
 */
export { SwitchboardProvider, useChatClient, type SwitchboardProviderProps } from "./switchboard-provider.js";
export {
  useConnectionState,
  useConversations,
  useMessages,
  usePresence,
  useReadReceipts,
  useThread,
  useTyping,
  type UseConversationsResult,
  type UseMessagesResult,
  type UseReadReceiptsResult,
  type UseThreadResult,
  type UseTypingResult,
} from "./hooks.js";
export type { ConnectionSnapshot } from "./connection-store.js";
export type { ConversationsSnapshot } from "./conversation-list-store.js";
export type { JoinStatus, MessagesSnapshot, ReceiptsSnapshot, TypingSnapshot } from "./conversation-store.js";
export type { PresenceSnapshot } from "./presence-store.js";
export type { ThreadSnapshot } from "./thread-store.js";
