import { randomBytes } from "node:crypto";
import { z } from "zod";
import { SwitchboardError } from "../../core/errors.js";
import { parse } from "../../core/schemas.js";
import { DEVICE_PLATFORMS, type DeviceRecord, type DeviceStore } from "./device-store.js";

/** Longest device token accepted: APNs tokens are 64 hex digits today (Apple says they may grow), FCM tokens about 160 characters. */
export const DEVICE_TOKEN_MAX_LENGTH = 4096;
/** Longest app id: a bundle id or package name. */
export const DEVICE_APP_ID_MAX_LENGTH = 155;

/** A token as the app reports it: APNs hex (any case, normalised to lower case), or an FCM registration token. */
export const deviceInputSchema = z
  .strictObject({
    platform: z.enum(DEVICE_PLATFORMS, { message: 'must be "ios" (APNs), "android" (FCM) or "expo" (Expo push token)' }),
    token: z.string().min(1, "must not be empty").max(DEVICE_TOKEN_MAX_LENGTH, `must be at most ${DEVICE_TOKEN_MAX_LENGTH} characters`),
    appId: z
      .string()
      .max(DEVICE_APP_ID_MAX_LENGTH, `must be at most ${DEVICE_APP_ID_MAX_LENGTH} characters`)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a bundle id or package name such as com.example.chat")
      .optional(),
  })
  .superRefine((input, ctx) => {
    // Checked per platform: a token of the wrong kind would only fail at the first push.
    if (input.platform === "ios" && !/^[0-9a-fA-F]{64,200}$/.test(input.token)) {
      ctx.addIssue({ code: "custom", path: ["token"], message: "must be the APNs device token as hex (64 hex digits), as didRegisterForRemoteNotificationsWithDeviceToken gives it" });
    }
    if (input.platform === "android" && !/^[A-Za-z0-9_:.-]+$/.test(input.token)) {
      ctx.addIssue({ code: "custom", path: ["token"], message: "must be the FCM registration token as getToken() returns it" });
    }
    if (input.platform === "expo" && !/^Expo(nent)?PushToken\[[A-Za-z0-9_-]{1,200}\]$/.test(input.token)) {
      ctx.addIssue({ code: "custom", path: ["token"], message: "must be the Expo push token as getExpoPushTokenAsync() returns it: ExponentPushToken[…]" });
    }
  })
  .transform((input) => ({ ...input, token: input.platform === "ios" ? input.token.toLowerCase() : input.token }));

/** What an app sends to register a device, as validated. */
export type DeviceInput = z.output<typeof deviceInputSchema>;

/** Options of {@link DeviceService}. */
export interface DeviceServiceOptions {
  /** Devices one user may hold; one more drops their oldest (`PUSH_MAX_DEVICES_PER_USER`). */
  maxDevicesPerUser: number;
  /** The clock, epoch ms; default `Date.now`. */
  now?: () => number;
}

/**
 * Registers and removes the native push devices of users' apps (the app calls it with the user's
 * own token). A token registered again moves to the caller: a shared phone that switched
 * accounts must stop receiving the previous account's messages.
 */
export class DeviceService {
  private readonly now: () => number;

  constructor(
    private readonly store: DeviceStore,
    private readonly options: DeviceServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Stores the device for the user and, past the cap, drops their oldest others. Throws `invalid_argument` naming the field. */
  async register(userId: string, input: unknown): Promise<DeviceRecord> {
    const parsed = parse(deviceInputSchema, input);
    const at = new Date(this.now()).toISOString();
    const saved = await this.store.saveDevice({
      id: `dev_${randomBytes(12).toString("hex")}`,
      userId,
      platform: parsed.platform,
      token: parsed.token,
      ...(parsed.appId ? { appId: parsed.appId } : {}),
      createdAt: at,
      updatedAt: at,
    });
    await this.enforceCap(userId, saved.id);
    return saved;
  }

  /** Removes the user's device with this token; `not_found` when they have none. */
  async unregister(userId: string, token: string): Promise<void> {
    // APNs tokens are stored in lower case; an app may send the upper-case form it registered with.
    const removed = (await this.store.deleteDevice(userId, token)) || (/^[0-9A-Fa-f]+$/.test(token) && (await this.store.deleteDevice(userId, token.toLowerCase())));
    if (!removed) throw new SwitchboardError("not_found", "token: no device of this user has this token.");
  }

  /** The user's devices, oldest first. */
  list(userId: string): Promise<DeviceRecord[]> {
    return this.store.listDevices(userId);
  }

  /** Two registrations racing on two nodes may leave one extra until the next registration. */
  private async enforceCap(userId: string, keep: string): Promise<void> {
    const devices = await this.store.listDevices(userId);
    const excess = devices.length - this.options.maxDevicesPerUser;
    if (excess <= 0) return;
    for (const device of devices.filter((d) => d.id !== keep).slice(0, excess)) await this.store.deleteDeviceByToken(device.platform, device.token);
  }
}
