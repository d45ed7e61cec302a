// Reading a QR code back: a PNG (bytes) decoded with pngjs and jsQR, as a phone's camera reads
// it. The tests compare what the node delivered with the code the simulator drew.
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/** The text a PNG of a QR code holds, or `undefined` when no QR code can be read from it. */
export function readQrPng(bytes) {
	const png = PNG.sync.read(Buffer.from(bytes));
	return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

/** The width and height of a PNG. */
export function pngSize(bytes) {
	const { width, height } = PNG.sync.read(Buffer.from(bytes));
	return { width, height };
}
