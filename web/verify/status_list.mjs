// Bitstring Status List bits (SPEC §5, W3C Bitstring Status List §3) in the browser.
import {base64ToBytes} from './bytes.mjs';

// encodedList: 'u' + base64url (no padding) of the GZIP of the bitstring.
export async function decodeList(encodedList) {
  if (typeof encodedList !== 'string' || encodedList[0] !== 'u') {
    throw new Error('encodedList is not multibase base64url');
  }
  const gz = new Blob([base64ToBytes(encodedList.slice(1))]).stream()
    .pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(gz).arrayBuffer());
}

// Index 0 is the most significant bit of byte 0.
export function bitAt(list, index) {
  if (!Number.isSafeInteger(index) || index < 0 || index >= list.length * 8) {
    throw new Error(`status index ${index} is outside the list`);
  }
  return (list[Math.floor(index / 8)] >> (7 - (index % 8))) & 1;
}
