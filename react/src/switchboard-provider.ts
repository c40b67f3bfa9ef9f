import { ChatClient, type ChatClientOptions } from "@switchboard/client-sdk";
import { createContext, createElement, useContext, useEffect, useState, type ReactElement, type ReactNode } from "react";

/** `undefined`: no provider above; `null`: a provider whose client does not exist yet (server, first render). */
const ClientContext = createContext<ChatClient | null | undefined>(undefined);

/** Props of {@link SwitchboardProvider}: an existing client, or the options to create one. */
export type SwitchboardProviderProps = { children?: ReactNode } & (
  | {
      /**
       * A client you created and own: the provider neither connects nor disconnects it (call
       * `client.connect()` in the browser, never during server rendering).
       */
      client: ChatClient;
      options?: never;
    }
  | {
      /**
       * Options of a client the provider owns: created and connected after the first render
       * in the browser (never on the server), disconnected on unmount. Read once: to use other
       * options, remount the provider (give it a new `key`).
       */
      options: ChatClientOptions;
      client?: never;
    }
);

/**
 * Makes a {@link ChatClient} available to the hooks below it.
 *
 * @example
 * <SwitchboardProvider options={{ url, getToken }}>
 *   <Room id="c1" />
 * </SwitchboardProvider>
 */
export function SwitchboardProvider(props: SwitchboardProviderProps): ReactElement {
  const [owned, setOwned] = useState<ChatClient | null>(null);
  const options = props.client ? undefined : props.options;
  useEffect(() => {
    if (!options) return;
    // In an effect, not in render: effects never run on the server, so no socket opens there.
    const client = new ChatClient(options);
    client.connect();
    setOwned(client);
    return () => {
      client.disconnect();
      setOwned(null);
    };
    // Options are read once by contract (see the prop's doc): a new object per render must not reconnect.
  }, [options === undefined]);
  return createElement(ClientContext.Provider, { value: props.client ?? owned }, props.children);
}

/**
 * The provider's client; `null` while a provider that owns its client has not created it yet
 * (server rendering and the first browser render). Throws outside a {@link SwitchboardProvider}.
 */
export function useChatClient(): ChatClient | null {
  const client = useContext(ClientContext);
  if (client === undefined) {
    throw new Error("Switchboard hooks must be used inside <SwitchboardProvider client={…}> or <SwitchboardProvider options={…}>");
  }
  return client;
}
