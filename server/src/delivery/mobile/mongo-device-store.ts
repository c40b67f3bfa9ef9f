import { MongoServerError, type Collection, type Db, type WriteConcernSettings } from "mongodb";
import { runMongo } from "../../store/mongo-store.js";
import type { DevicePlatform, DeviceRecord, DeviceStore } from "./device-store.js";

interface DeviceDoc {
  /** The record's `dev_…` id. */
  _id: string;
  userId: string;
  platform: DevicePlatform;
  token: string;
  appId?: string;
  badge?: number;
  createdAt: string;
  updatedAt: string;
}

const DUPLICATE_KEY = 11000;

/**
 * The MongoDB {@link DeviceStore}: collection `mobileDevices` in the main database, with a
 * unique index on (platform, token) that decides when two nodes register the same token at once.
 */
export class MongoDeviceStore implements DeviceStore {
  private readonly devices: Collection<DeviceDoc>;

  /**
   * @param db a database of an already-connected client, which this store never closes.
   * @param options.writeConcern default `{ w: "majority", journal: true }`, like the main store.
   */
  constructor(db: Db, options: { writeConcern?: WriteConcernSettings } = {}) {
    this.devices = db.collection<DeviceDoc>("mobileDevices", { writeConcern: options.writeConcern ?? { w: "majority", journal: true }, ignoreUndefined: true });
  }

  init(): Promise<void> {
    return runMongo(async () => {
      await this.devices.createIndexes([
        { key: { platform: 1, token: 1 }, name: "platform_token", unique: true },
        { key: { userId: 1, platform: 1, createdAt: 1 }, name: "user" },
      ]);
    });
  }

  saveDevice(device: DeviceRecord): Promise<DeviceRecord> {
    return runMongo(async () => {
      const { id, userId, platform, token, appId, createdAt, updatedAt } = device;
      // A known token keeps its id and creation time but moves to the new owner and app.
      const update = {
        $set: { userId, updatedAt, ...(appId !== undefined ? { appId } : {}) },
        ...(appId === undefined ? { $unset: { appId: "" as const } } : {}),
        $setOnInsert: { _id: id, platform, token, createdAt },
      };
      const upsert = () => this.devices.findOneAndUpdate({ platform, token }, update, { upsert: true, returnDocument: "before" });
      let before: DeviceDoc | null;
      try {
        before = await upsert();
      } catch (err) {
        // Two upserts of a new token raced; the loser now finds the winner's document.
        if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
        before = await upsert();
      }
      // The badge described the old owner's unread count.
      if (before && before.userId !== userId && before.badge !== undefined) await this.devices.updateOne({ _id: before._id }, { $unset: { badge: "" } });
      const after = await this.devices.findOne({ platform, token });
      if (!after) throw new Error("the device was deleted while it was being saved");
      return toDevice(after);
    });
  }

  listDevices(userId: string, platform?: DevicePlatform): Promise<DeviceRecord[]> {
    return runMongo(async () => (await this.devices.find(platform ? { userId, platform } : { userId }).sort({ createdAt: 1, _id: 1 }).toArray()).map(toDevice));
  }

  deleteDevice(userId: string, token: string): Promise<boolean> {
    return runMongo(async () => (await this.devices.deleteMany({ userId, token })).deletedCount > 0);
  }

  deleteDeviceByToken(platform: DevicePlatform, token: string): Promise<boolean> {
    return runMongo(async () => (await this.devices.deleteOne({ platform, token })).deletedCount > 0);
  }

  setBadge(platform: DevicePlatform, token: string, badge: number): Promise<void> {
    return runMongo(async () => {
      await this.devices.updateOne({ platform, token }, { $set: { badge } });
    });
  }
}

function toDevice(doc: DeviceDoc): DeviceRecord {
  const device: DeviceRecord = { id: doc._id, userId: doc.userId, platform: doc.platform, token: doc.token, createdAt: doc.createdAt, updatedAt: doc.updatedAt };
  if (doc.appId != null) device.appId = doc.appId;
  if (doc.badge != null) device.badge = doc.badge;
  return device;
}
