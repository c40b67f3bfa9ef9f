import sharp from "sharp";

/** Tag of IFD0 pointing at the GPS IFD (TIFF/EXIF 2.3). */
export const GPS_IFD_POINTER = 0x8825;

/**
 * The tags of IFD0 in a JPEG's EXIF block, as numbers (empty when the image has no EXIF).
 * A small reader of the TIFF structure sharp hands back as `metadata().exif`, so a test can
 * tell whether a GPS position is in the file without trusting the code under test.
 */
export async function exifIfd0Tags(image: Buffer): Promise<number[]> {
  const exif = (await sharp(image).metadata()).exif;
  if (!exif) return [];
  // "Exif\0\0", then a TIFF header: byte order, 42, offset of IFD0.
  const tiff = exif.subarray(exif.subarray(0, 6).toString("latin1") === "Exif\0\0" ? 6 : 0);
  const little = tiff.toString("latin1", 0, 2) === "II";
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd0 = u32(4);
  return Array.from({ length: u16(ifd0) }, (_, i) => u16(ifd0 + 2 + i * 12));
}

/** A JPEG with EXIF orientation 6 (shown rotated a quarter turn), a camera make and a GPS position (Paris). */
export async function jpegWithGps(width: number, height: number): Promise<Buffer> {
  const base = await sharp({ create: { width, height, channels: 3, background: { r: 180, g: 40, b: 40 } } }).jpeg().toBuffer();
  return sharp(base)
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: "TestCam", Model: "GPS 3000" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 2400/100", GPSLongitudeRef: "E", GPSLongitude: "2/1 21/1 300/100" },
    })
    .jpeg()
    .toBuffer();
}
