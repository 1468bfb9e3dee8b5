import { DataError } from './errors.js';
import sharp from 'sharp';

/** Decode an image file to sRGB uint8 HWC (alpha dropped, EXIF orientation applied), optionally resized. */
export async function decodeImage(
  path: string,
  size?: { width: number; height: number },
): Promise<{ data: Uint8Array; width: number; height: number }> {
  try {
    let img = sharp(path, { failOn: 'error' }).rotate().removeAlpha().toColourspace('srgb');
    if (size) img = img.resize(size.width, size.height, { fit: 'fill' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new DataError(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (e) {
    // libvips messages can span lines; the error is one line naming the file and what to do.
    const reason = (e as Error).message.replace(/\s+/g, ' ').trim().replace(/[.:;]$/, '');
    throw new DataError(`Cannot decode image ${path}: ${reason}; replace it with a readable JPEG or PNG, or remove it.`);
  }
}
