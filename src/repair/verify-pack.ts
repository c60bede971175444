import { NotFoundError } from '../backend/backend.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import { IntegrityError } from '../errors.ts';
import { sha256Hex } from '../repository/ids.ts';
import { type BlobType, type PackBlob, readPackHeader } from '../repository/pack-format.ts';
import { decodePayload } from '../repository/payload.ts';
import type { Repository } from '../repository/repository.ts';
import { reason } from '../repository/maintenance/repo-state.ts';

export type VerifyRepo = Pick<Repository, 'backend' | 'sealer' | 'key'>;

export interface GoodBlob {
  readonly entry: PackBlob;
  /** the blob's framed payload (flag|body), when asked for */
  readonly framed?: Buffer;
}

export interface PackVerdict {
  readonly id: string;
  /** stored size; undefined when the pack does not exist */
  readonly size: number | undefined;
  /** the damage found; empty when the pack is intact */
  readonly reasons: readonly string[];
  /** blobs that decrypt, decompress and hash to their id: hex id -> the entry that found them */
  readonly good: ReadonlyMap<string, GoodBlob>;
  /** blobs no entry could read: hex id -> type */
  readonly bad: ReadonlyMap<string, BlobType>;
}

const entryKey = (b: PackBlob): string => `${b.id.toString('hex')}:${b.offset}:${b.length}:${b.rawLength}`;

/** Decrypts one blob box and checks it: length and keyed id. Returns its framed payload. */
function openFramed(repo: VerifyRepo, box: Uint8Array, b: PackBlob): Buffer {
  const framed = repo.sealer.open(box);
  const plain = decodePayload(framed, b.rawLength);
  if (plain.length !== b.rawLength) throw new IntegrityError(`blob ${b.id.toString('hex')} has length ${plain.length}, expected ${b.rawLength}`);
  if (!blobIdOf(repo.key.id, plain).equals(b.id)) throw new IntegrityError(`blob ${b.id.toString('hex')} does not match its id`);
  return framed;
}

/**
 * Reads a whole pack and judges it as `check --read-data` does: its SHA-256 must equal its name, its header must
 * decrypt and list every indexed blob as the index does, and every blob must decrypt and hash to its id. Every
 * blob that some entry (from the index, or from the header when it is readable) can read is `good`. A missing pack
 * has no good blobs; any other load failure is thrown (a transient error must not make a pack look lost).
 */
export async function verifyPack(repo: VerifyRepo, id: string, indexed: readonly PackBlob[] | undefined, o: { keepPayloads?: boolean; signal?: AbortSignal } = {}): Promise<PackVerdict> {
  const entries = indexed ?? [];
  let data: Buffer;
  try {
    const raw = await repo.backend.load({ type: 'pack', name: id }, undefined, o.signal ? { signal: o.signal } : undefined);
    data = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
    const bad = new Map<string, BlobType>();
    for (const b of entries) bad.set(b.id.toString('hex'), b.type);
    return { id, size: undefined, reasons: ['the pack does not exist'], good: new Map(), bad };
  }
  const reasons: string[] = [];
  if (sha256Hex(data) !== id) reasons.push('the SHA-256 of its bytes does not match its name');
  let header: PackBlob[] = [];
  try {
    header = readPackHeader(data, repo.sealer);
    const listed = new Set(header.map(entryKey));
    const unlisted = entries.filter((b) => !listed.has(entryKey(b))).length;
    if (unlisted > 0) reasons.push(`its header does not list ${unlisted} of its ${entries.length} indexed blobs`);
  } catch (e) {
    reasons.push(`its header is unreadable (${reason(e)})`);
  }
  const good = new Map<string, GoodBlob>();
  const bad = new Map<string, BlobType>();
  const seen = new Set<string>();
  for (const b of [...entries, ...header]) {
    const k = entryKey(b);
    const hex = b.id.toString('hex');
    if (seen.has(k) || good.has(hex)) continue;
    seen.add(k);
    try {
      if (b.offset + b.length > data.length) throw new IntegrityError('lies outside the pack');
      const framed = openFramed(repo, data.subarray(b.offset, b.offset + b.length), b);
      good.set(hex, o.keepPayloads ? { entry: b, framed } : { entry: b });
      bad.delete(hex);
    } catch {
      if (!bad.has(hex)) bad.set(hex, b.type);
    }
  }
  if (bad.size > 0) reasons.push(`${bad.size} of its ${good.size + bad.size} blobs are damaged`);
  return { id, size: data.length, reasons, good, bad };
}
