/**
 * Switchboard client SDK: one {@link ChatClient} per user session, one
 * {@link ConversationHandle} per open conversation. Runs in browsers, Node and React Native.
 *
 * @packageDocumentation
 */
export {
  ChatClient,
  type ChatClientEvents,
  type ChatClientOptions,
  type ConnectingCode,
  type ConnectionState,
  type DisconnectedCode,
  type SocketFactory,
  type SocketIoOptions,
  type StateChange,
  type StateChangeEvent,
  type SwitchboardSocket,
} from "./chat-client.js";
export {
  ConversationHandle,
  type ConversationHandleEvents,
  type HistoryOptions,
  type PendingMessage,
  type SendOptions,
  type ThreadHistoryOptions,
  keepOwnMembership,
} from "./conversation-handle.js";
export { DEFAULT_BACKOFF, fullJitterDelay, type BackoffOptions } from "./backoff.js";
export { SwitchboardClientError, isPermanentErrorCode } from "./errors.js";
export { TypedEmitter, type Listener } from "./emitter.js";
export { readJwtClaims, type JwtClaims } from "./jwt-claims.js";
export { randomUuid, timeOrderedUuid } from "./random-id.js";
export * from "./protocol.js";
export { enablePushNotifications, disablePushNotifications, type PushEnableResult, type PushDisableResult, type WebPushOptions } from "./web-push.js";
export { uploadFile, type Upload, type UploadFileOptions } from "./uploads.js";
export { registerDevice, unregisterDevice, listDevices, type DeviceInput, type DeviceUnregisterResult, type MobilePushOptions, type RegisteredDevice } from "./mobile-push.js";
