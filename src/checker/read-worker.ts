import { createHash } from 'node:crypto';
import { readFileRange } from '../platform/read-range.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { Sealer } from '../crypto/aead.ts';
import { openBlob } from '../repository/blob-codec.ts';
import { type PackBlob, readPackHeader } from '../repository/pack-format.ts';
import { parseTree } from '../model/tree-parse.ts';
import type { PackJob, PackVerdict, ReadWorkerInit, ToReadWorker } from './read-protocol.ts';
import { encodeTreeRefs } from './tree-cache.ts';
import { exposeGc } from '../platform/gc.ts';

/**
 * A read-data worker: for one whole pack, checks its SHA-256 against its name, decrypts its header and compares it
 * with the index entries, and decrypts, decompresses and id-checks every blob, all on its own thread. Trees are
 * validated and sent back as compact references when asked, so the tree walk needs no second read.
 */
const init = workerData as ReadWorkerInit;
const port = parentPort;
if (!port) throw new Error('read-worker must run in a worker thread');
const sealer = new Sealer(init.encKey);
const idKey = Buffer.from(init.idKey);

/** Plaintexts are garbage at once; a young-generation collection per pack keeps off-heap memory flat. */
const gc = exposeGc();
/** decompressed blobs land here: no allocation (and no page faults) per blob; a larger blob gets its own buffer */
const MAX_SCRATCH = 64 << 20;
let scratch = Buffer.allocUnsafeSlow(8 << 20);
/** boxes are decrypted into this buffer (Sealer.openInto, grown as needed): no chunk-sized allocation per blob */
const decrypted = { buf: Buffer.allocUnsafeSlow(1 << 20) };

/** packs read here (a local repository) land in this buffer, kept for the run (readFileRange grows it) */
const packBuf = { buf: Buffer.allocUnsafeSlow(1 << 20) };

function verify(m: PackJob, data: Buffer): PackVerdict {
  const hashOk = createHash('sha256').update(data).digest('hex') === m.id;
  const ids = Buffer.from(m.ids.buffer, m.ids.byteOffset, m.ids.byteLength);
  const n = m.offsets.length;
  let header: PackBlob[] | undefined;
  let headerError: string | undefined;
  try {
    header = readPackHeader(data, sealer);
  } catch (e) {
    headerError = (e as Error).message;
  }
  const notInHeader: number[] = [];
  let extraInHeader = 0;
  if (header) {
    const byId = new Map<string, PackBlob>();
    for (const h of header) byId.set(h.id.toString('latin1'), h);
    for (let i = 0; i < n; i++) {
      const key = ids.toString('latin1', i * 32, i * 32 + 32);
      const h = byId.get(key);
      if (h && h.offset === m.offsets[i] && h.length === m.lengths[i] && h.rawLength === m.rawLengths[i] && (h.type === 'tree' ? 1 : 0) === m.types[i]) byId.delete(key);
      else notInHeader.push(i);
    }
    extraInHeader = byId.size;
  }
  const badBlobs: { i: number; message: string }[] = [];
  const trees: { i: number; plain: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const off = m.offsets[i] as number;
    const len = m.lengths[i] as number;
    if (off + len > data.length) {
      badBlobs.push({ i, message: `lies outside the pack (offset ${off}, length ${len}, pack size ${data.length})` });
      continue;
    }
    try {
      const raw = m.rawLengths[i] as number;
      if (scratch.length < raw && raw <= MAX_SCRATCH) scratch = Buffer.allocUnsafeSlow(Math.min(MAX_SCRATCH, Math.max(raw, scratch.length * 2)));
      const plain = openBlob(data.subarray(off, off + len), sealer, idKey, ids.subarray(i * 32, i * 32 + 32), raw, raw <= scratch.length ? scratch : undefined, decrypted);
      if (m.wantTrees && m.types[i] === 1) {
        // validated here, sent compact; an invalid tree is left to the main thread, which reports it
        try {
          trees.push({ i, plain: encodeTreeRefs(parseTree(plain, ids.toString('hex', i * 32, i * 32 + 32))) });
        } catch {
          // not sent
        }
      }
    } catch (e) {
      badBlobs.push({ i, message: (e as Error).message });
    }
  }
  return { t: 'done', job: m.job, hashOk, ...(headerError !== undefined ? { headerError } : {}), notInHeader, extraInHeader, badBlobs, ...(trees.length > 0 ? { trees: packTrees(trees) } : {}) };
}

function packTrees(trees: readonly { i: number; plain: Buffer }[]): NonNullable<PackVerdict['trees']> {
  const data = new Uint8Array(trees.reduce((a, t) => a + t.plain.length, 0));
  const entries = new Uint32Array(trees.length);
  const lengths = new Uint32Array(trees.length);
  let p = 0;
  trees.forEach((t, k) => {
    data.set(t.plain, p);
    p += t.plain.length;
    entries[k] = t.i;
    lengths[k] = t.plain.length;
  });
  return { data, entries, lengths };
}

port.on('message', (m: ToReadWorker) => {
  if (m.t === 'stop') {
    port.close();
    return;
  }
  let data: Buffer;
  try {
    if (m.file) data = readFileRange(m.file.path, 0, m.file.size, packBuf);
    else if (m.data) data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    else throw new Error('no data sent');
  } catch (e) {
    port.postMessage({ t: 'done', job: m.job, hashOk: false, notInHeader: [], extraInHeader: 0, badBlobs: [], unread: (e as Error).message } satisfies PackVerdict);
    return;
  }
  const v = verify(m, data);
  port.postMessage(v, v.trees ? { transfer: [v.trees.data.buffer as ArrayBuffer] } : undefined);
  // the pack and every plaintext are garbage now: a young-generation collection frees them before the next pack
  gc?.({ type: 'minor' });
});
