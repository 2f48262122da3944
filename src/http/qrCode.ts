/** QR images of entry links (PNG for print, SVG for screens), drawn by the `qrcode` library. */
import QRCode from 'qrcode';

const options = { errorCorrectionLevel: 'M' as const, margin: 2 };

export function qrPng(text: string, size: number): Promise<Buffer> {
  return QRCode.toBuffer(text, { ...options, type: 'png', width: size });
}

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { ...options, type: 'svg' });
}
