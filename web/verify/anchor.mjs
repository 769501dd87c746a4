// The anchor step in the browser (issue #15, SPEC §2, §3): the checkpoint the inclusion proof
// leads to was committed on chain by the issuer's anchor account. It reads the transaction
// over a JSON-RPC URL the visitor may change, and takes nothing on the endpoint's word that
// it can check itself: the sender is recovered from the transaction's signature over its
// re-encoded EIP-1559 form, which must also hash to the transaction hash. The same steps, in
// the same order, as anchor/anchor_check.c (`credanchor verify`).
import {secp256k1} from '../vendor/noble-curves-1.9.7/esm/secp256k1.js';
import {keccak_256 as keccak} from '../vendor/noble-hashes-1.8.0/esm/sha3.js';
import {bytesToHex, concat, equal, hexToBytes} from './bytes.mjs';

const CALLDATA_TAG = '43417631'; // "CAv1"
const RPC_TIMEOUT_MS = 5000;

// ---- RLP (Ethereum Yellow Paper, appendix B) -------------------------------------------------
function rlpLength(len, offset) {
  if (len < 56) {
    return Uint8Array.of(offset + len);
  }
  const be = hexToBytes(len.toString(16).padStart(Math.ceil(len.toString(16).length / 2) * 2, '0'));
  return concat(Uint8Array.of(offset + 55 + be.length), be);
}
export function rlp(item) {
  if (Array.isArray(item)) {
    const body = concat(...item.map(rlp));
    return concat(rlpLength(body.length, 0xc0), body);
  }
  if (item.length === 1 && item[0] < 0x80) {
    return item;
  }
  return concat(rlpLength(item.length, 0x80), item);
}

// A JSON-RPC quantity ("0x1a") as minimal big-endian bytes (zero is empty), as RLP wants.
function quantity(q) {
  if (typeof q !== 'string' || !/^0x[0-9a-fA-F]+$/.test(q)) {
    throw new Error(`not a quantity: ${q}`);
  }
  const h = q.slice(2).replace(/^0+/, '');
  return hexToBytes(h.length % 2 ? '0' + h : h);
}
const data = (d, len) => {
  if (typeof d !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(d) || (len && d.length !== 2 + 2 * len)) {
    throw new Error(`not ${len || 'some'} bytes of data: ${String(d).slice(0, 20)}`);
  }
  return hexToBytes(d.slice(2));
};
const num = (q) => Number(BigInt(q));
const addr = (b) => '0x' + bytesToHex(b);

export async function rpcCall(url, method, params) {
  const r = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params}),
    signal: AbortSignal.timeout(RPC_TIMEOUT_MS)});
  const body = await r.json();
  if (body.error) {
    throw new Error(`${method}: ${body.error.message}`);
  }
  return body.result;
}

// The unsigned EIP-1559 fields of a JSON-RPC transaction, as RLP items (no access list).
export const txFields = (tx) => [quantity(tx.chainId), quantity(tx.nonce),
  quantity(tx.maxPriorityFeePerGas), quantity(tx.maxFeePerGas), quantity(tx.gas), data(tx.to, 20),
  quantity(tx.value), data(tx.input), []];

// The sender the signature recovers to, and the hash of the signed encoding (EIP-1559).
function senderAndHash(tx) {
  if (tx.accessList && tx.accessList.length) {
    throw new Error('the anchor transaction has an access list; anchor transactions have none');
  }
  const fields = txFields(tx);
  const parity = num(tx.yParity ?? tx.v);
  if (parity > 1) {
    throw new Error(`the signature has y parity ${parity}`);
  }
  const r = BigInt(tx.r), s = BigInt(tx.s);
  const sig = new secp256k1.Signature(r, s).addRecoveryBit(parity);
  const pub = sig.recoverPublicKey(keccak(concat(Uint8Array.of(2), rlp(fields)))).toRawBytes(false);
  const signed = concat(Uint8Array.of(2), rlp([...fields, quantity(tx.yParity ?? tx.v), quantity(tx.r), quantity(tx.s)]));
  return {from: keccak(pub.slice(1)).slice(12), hash: keccak(signed)};
}

export const defaultConfirmations = (chainId) => (chainId === 31337 || chainId === 1337 ? 1 : 12);

// The issuer's anchor account from its DID document: the #anchor method's CAIP-10
// blockchainAccountId "eip155:<chain>:<address>" (SPEC §4). Null when it has none.
export function anchorAccount(didDoc) {
  for (const vm of didDoc.verificationMethod || []) {
    const m = /^eip155:([0-9]+):(0x[0-9a-fA-F]{40})$/.exec(vm.blockchainAccountId || '');
    if (m && vm.id.endsWith('#anchor')) {
      return {chainId: Number(m[1]), address: m[2].toLowerCase()};
    }
  }
  return null;
}

// proof: the SPEC §3 inclusion proof (its anchor record); checkpoint: {size, root} already
// checked against the log key; account: anchorAccount(issuer DID document); rpcUrl; need:
// confirmations required (default: by chain). Returns {result, detail}.
export async function checkAnchor(proof, checkpoint, account, rpcUrl, need) {
  const a = proof.anchor;
  if (!a) {
    return {result: 'pending', detail: 'not anchored yet: the next anchor will include it'};
  }
  if (!account) {
    return {result: 'fail', detail: 'the issuer\'s DID document names no anchor account'};
  }
  const fail = (detail) => ({result: 'fail', detail});
  const chainId = Number((/^eip155:([0-9]+)$/.exec(a.chain) || [])[1]);
  if (chainId !== account.chainId) {
    return fail(`the anchor is on ${a.chain}, the issuer's account on eip155:${account.chainId}`);
  }
  if (String(a.from).toLowerCase() !== account.address) {
    return fail(`the anchor record claims sender ${a.from}, but the issuer's anchor account is ${account.address}`);
  }
  if (a.treeSize !== checkpoint.size || String(a.rootHash).toLowerCase() !== bytesToHex(checkpoint.root)) {
    return fail('the anchor is not for the signed checkpoint of the proof');
  }
  if (!a.blockHash || a.blockNumber == null) {
    return {result: 'pending', detail: `the anchor is still ${a.status}: not in a block yet`};
  }
  need = need || defaultConfirmations(chainId);
  let tx, receipt, block, head;
  try {
    const onChain = num(await rpcCall(rpcUrl, 'eth_chainId', []));
    if (onChain !== chainId) {
      return fail(`the RPC endpoint is on chain ${onChain}, but the anchor is on ${a.chain}`);
    }
    tx = await rpcCall(rpcUrl, 'eth_getTransactionByHash', [a.txHash]);
    receipt = await rpcCall(rpcUrl, 'eth_getTransactionReceipt', [a.txHash]);
    block = await rpcCall(rpcUrl, 'eth_getBlockByNumber', ['0x' + a.blockNumber.toString(16), false]);
    head = num(await rpcCall(rpcUrl, 'eth_blockNumber', []));
  } catch (e) {
    return {result: 'pending', detail: `cannot check the anchor on chain now: ${e.message}`};
  }
  try {
    if (!tx) {
      return fail(`the anchor transaction ${a.txHash} does not exist on ${a.chain}`);
    }
    if (tx.type !== '0x2' || num(tx.chainId) !== chainId || !tx.to) {
      return fail('the anchor transaction is not an EIP-1559 transaction to an address on this chain');
    }
    if (tx.to.toLowerCase() !== String(a.to).toLowerCase()) {
      return fail(`the anchor transaction goes to ${tx.to}, not to ${a.to}`);
    }
    const input = data(tx.input);
    const want = hexToBytes(CALLDATA_TAG + BigInt(a.treeSize).toString(16).padStart(16, '0') + bytesToHex(checkpoint.root));
    if (!equal(input, want)) {
      return fail(input.length === 44 && bytesToHex(input.slice(0, 4)) === CALLDATA_TAG
        ? 'the anchor transaction commits another tree size or root' : 'the calldata is not CAv1 anchor data');
    }
    const {from, hash} = senderAndHash(tx);
    if (bytesToHex(hash) !== a.txHash.slice(2).toLowerCase()) {
      return fail(`the transaction the endpoint reports does not hash to ${a.txHash}`);
    }
    if (addr(from) !== account.address) {
      return fail(`the anchor transaction's signature recovers to ${addr(from)}, not to the issuer's anchor account`);
    }
    if (!receipt || num(receipt.status) !== 1) {
      return fail('the anchor transaction has no successful receipt');
    }
    if (num(receipt.blockNumber) !== a.blockNumber || receipt.blockHash !== a.blockHash ||
        !block || block.hash !== a.blockHash) {
      return fail(`block ${a.blockNumber} of the canonical chain is not the record's block (reorganised away?)`);
    }
  } catch (e) {
    return fail(`the anchor transaction cannot be read: ${e.message}`);
  }
  const confirmations = head >= a.blockNumber ? head - a.blockNumber + 1 : 0;
  if (confirmations < need) {
    return {result: 'pending', detail: `${confirmations} confirmation(s), ${need} required`};
  }
  return {result: 'pass', detail: `tx ${a.txHash} in block ${a.blockNumber} of ${a.chain} (${confirmations} confirmations) anchors tree size ${a.treeSize}`};
}
