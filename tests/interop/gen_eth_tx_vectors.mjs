#!/usr/bin/env node
// Generates the signed EIP-1559 (type 2) transaction vectors embedded in tests/unit/test_eth.c,
// with ethers v6 as the independent implementation. Run once, paste the output:
//
//   npm install --prefix /tmp/ethers-gen ethers@6
//   ETHERS_PREFIX=/tmp/ethers-gen node tests/interop/gen_eth_tx_vectors.mjs
//
// ethers is resolved from ETHERS_PREFIX (default /tmp/ethers-gen) so no node_modules lands in
// the repository. Each transaction carries the 44-byte SPEC §2 anchor calldata:
// "CAv1" || tree size (8-byte big-endian) || 32-byte root.
import {createRequire} from 'node:module';
import path from 'node:path';

const prefix = process.env.ETHERS_PREFIX ?? '/tmp/ethers-gen';
const require = createRequire(path.join(prefix, 'package.json'));
const {ethers} = require('ethers');

const calldata = (size, root) => ethers.concat(['0x43417631', ethers.toBeHex(size, 8), root]);

// anvil's default account 0, and the key from the web3.js accounts documentation.
const KEY_ANVIL0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY_WEB3 = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
const ROOT_EMPTY = ethers.sha256('0x'); // SHA-256(""), the empty tree's root
const ROOT_X = '0x' + '5a'.repeat(31) + '01';

const vectors = [
  {name: 'mainnet_nonce0', key: KEY_WEB3, chainId: 1n, nonce: 0,
   maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 30_000_000_000n, gasLimit: 30_000n,
   to: '0x00000000000000000000000000000000000000aa', value: 0n, data: calldata(1n, ROOT_X)},
  {name: 'anvil_large_nonce', key: KEY_ANVIL0, chainId: 31337n, nonce: 9007199254740991,
   maxPriorityFeePerGas: 0n, maxFeePerGas: 1n, gasLimit: 21_000n,
   to: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', value: 0n, data: calldata(0n, ROOT_EMPTY)},
  {name: 'sepolia_wide_fees', key: KEY_ANVIL0, chainId: 11155111n, nonce: 7,
   maxPriorityFeePerGas: (1n << 72n) + 5n,                    // 10 bytes
   maxFeePerGas: (1n << 255n) + 0x1234n,                      // 32 bytes
   gasLimit: 30_000_000n, to: '0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef', value: 0n,
   data: calldata(1_000_000n, ROOT_X)},
  {name: 'base_value_maxsize', key: KEY_WEB3, chainId: 8453n, nonce: 256,
   maxPriorityFeePerGas: 0x0100000000000000n, maxFeePerGas: 0xffffffffffffffffn,  // 8 bytes
   gasLimit: 0xffffffffffffffffn, to: '0x0000000000000000000000000000000000000000',
   value: 10n ** 18n, data: calldata(0xffffffffffffffffn, ROOT_EMPTY)},
];

const sign = async (v) => {
  const wallet = new ethers.Wallet(v.key);
  const raw = await wallet.signTransaction({
    type: 2, chainId: v.chainId, nonce: v.nonce, maxPriorityFeePerGas: v.maxPriorityFeePerGas,
    maxFeePerGas: v.maxFeePerGas, gasLimit: v.gasLimit, to: v.to, value: v.value, data: v.data,
    accessList: [],
  });
  return {wallet, raw, tx: ethers.Transaction.from(raw)};
};

// A fifth vector whose r or s has a leading zero byte, so the minimal-integer encoding of the
// signature is exercised: the smallest nonce >= 1 that gives one on chain 31337.
{
  const base = {name: 'anvil_short_sig', key: KEY_ANVIL0, chainId: 31337n,
    maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 2_000_000_000n, gasLimit: 25_000n,
    to: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', value: 0n, data: calldata(42n, ROOT_X)};
  for (let nonce = 1; ; nonce++) {
    const {tx} = await sign({...base, nonce});
    if (tx.signature.r.startsWith('0x00') || tx.signature.s.startsWith('0x00')) {
      vectors.push({...base, nonce});
      break;
    }
  }
}

console.log(`// ethers ${ethers.version}`);
for (const v of vectors) {
  const {wallet, raw, tx} = await sign(v);
  if (tx.from.toLowerCase() !== wallet.address.toLowerCase()) throw new Error('from mismatch');
  console.log(JSON.stringify({
    name: v.name, key: v.key, chainId: v.chainId.toString(), nonce: v.nonce.toString(),
    maxPriorityFeePerGas: ethers.toBeHex(v.maxPriorityFeePerGas, 32),
    maxFeePerGas: ethers.toBeHex(v.maxFeePerGas, 32), gasLimit: v.gasLimit.toString(), to: v.to,
    value: ethers.toBeHex(v.value, 32), from: wallet.address.toLowerCase(), data: v.data,
    signingHash: tx.unsignedHash, yParity: tx.signature.yParity,
    r: tx.signature.r, s: tx.signature.s, raw, hash: tx.hash,
  }));
}
