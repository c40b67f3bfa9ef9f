import type { ChatClient } from "@switchboard/client-sdk";
import { ConnectionStore } from "./connection-store.js";
import { ConversationListStore } from "./conversation-list-store.js";
import { ConversationStore } from "./conversation-store.js";
import { PresenceStore } from "./presence-store.js";
import { ThreadStore } from "./thread-store.js";

/**
 * The stores of one client, shared by every component reading it: two components showing the
 * same conversation read one store (one join, one set of SDK listeners).
 */
export class StoreRegistry {
  readonly connection: ConnectionStore;
  readonly conversations: ConversationListStore;
  readonly presence: PresenceStore;
  private readonly rooms = new Map<string, ConversationStore>();
  private readonly threads = new Map<string, ThreadStore>();

  constructor(private readonly client: ChatClient) {
    this.connection = new ConnectionStore(client);
    this.conversations = new ConversationListStore(client);
    this.presence = new PresenceStore(client);
  }

  /** The store of conversation `id`; creating it touches no network. */
  conversation(id: string): ConversationStore {
    let store = this.rooms.get(id);
    if (!store) {
      store = new ConversationStore(this.client, id);
      this.rooms.set(id, store);
    }
    return store;
  }

  /** The store of the thread under message `threadId` of conversation `conversationId`. */
  thread(conversationId: string, threadId: string): ThreadStore {
    const key = `${conversationId}\u0000${threadId}`;
    let store = this.threads.get(key);
    if (!store) {
      store = new ThreadStore(this.client, this.conversation(conversationId), threadId);
      this.threads.set(key, store);
    }
    return store;
  }
}

const registries = new WeakMap<ChatClient, StoreRegistry>();

/** The registry of `client`, created on first use and dropped with the client. */
export function registryOf(client: ChatClient): StoreRegistry {
  let registry = registries.get(client);
  if (!registry) {
    registry = new StoreRegistry(client);
    registries.set(client, registry);
  }
  return registry;
}
