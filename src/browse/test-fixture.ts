/**
 * Builds small repositories in memory for the browse tests: files split into chosen blobs, directories with any
 * (byte) names, snapshots. Uses the repository's own writers, not the archiver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import { type Node, encodeName, nodeNameBytes } from '../model/node.ts';
import { encodeTree } from '../model/tree-encode.ts';
import { PackBuilder } from '../repository/pack-format.ts';
import { encodePayload } from '../repository/payload.ts';
import { Repository } from '../repository/repository.ts';
import { saveSnapshot } from '../repository/snapshots.ts';

export const T0 = '1700000000123456789';

type Extra = Partial<Omit<Node, 'name' | 'nameRaw' | 'type' | 'content' | 'subtree'>>;

function named(name: string | Buffer): Pick<Node, 'name' | 'nameRaw'> {
  const e = encodeName(typeof name === 'string' ? Buffer.from(name) : name);
  return e.raw === undefined ? { name: e.name } : { name: e.name, nameRaw: e.raw };
}

export class RepoBuilder {
  readonly tmp: string;
  readonly repo: Repository;
  #pack: PackBuilder;
  readonly #have = new Set<string>();

  private constructor(tmp: string, repo: Repository) {
    this.tmp = tmp;
    this.repo = repo;
    this.#pack = new PackBuilder(repo.sealer);
  }

  static async create(): Promise<RepoBuilder> {
    const dir = mkdtempSync(join(tmpdir(), 'pyb-browse-'));
    const repo = await Repository.init(new MemBackend(), 'pw', { kdf: { memory: 8192, passes: 1, parallelism: 1 }, catalogPath: join(dir, 'catalog.db') });
    return new RepoBuilder(dir, repo);
  }

  #add(plain: Buffer, type: 'data' | 'tree'): string {
    const id = blobIdOf(this.repo.key.id, plain);
    const hex = id.toString('hex');
    if (!this.#have.has(hex)) {
      this.#have.add(hex);
      this.#pack.addPayload(id, type, encodePayload(plain, { level: 1 }), plain.length);
    }
    return hex;
  }

  /** A file whose content is `chunks`, one blob each. */
  file(name: string | Buffer, chunks: readonly (Buffer | string)[], extra: Extra = {}): Node {
    const bufs = chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c));
    const content = bufs.map((b) => this.#add(b, 'data'));
    const size = bufs.reduce((a, b) => a + b.length, 0);
    return { ...named(name), type: 'file', mode: 0o644, uid: 1000, gid: 1000, user: 'ann', group: 'staff', mtime: T0, atime: T0, ctime: T0, size, content, ...extra };
  }

  symlink(name: string | Buffer, target: string, extra: Extra = {}): Node {
    return { ...named(name), type: 'symlink', mode: 0o777, uid: 1000, gid: 1000, mtime: T0, atime: T0, ctime: T0, linkTarget: target, ...extra };
  }

  other(name: string, type: 'fifo' | 'chardev' | 'blockdev' | 'socket', extra: Extra = {}): Node {
    return { ...named(name), type, mode: 0o644, uid: 0, gid: 0, mtime: T0, atime: T0, ctime: T0, ...extra };
  }

  /** A directory node holding `children` (sorted by raw name bytes here). */
  dir(name: string | Buffer, children: readonly Node[], extra: Extra = {}): Node {
    return { ...named(name), type: 'dir', mode: 0o755, uid: 1000, gid: 1000, mtime: T0, atime: T0, ctime: T0, subtree: this.tree(children), ...extra };
  }

  tree(children: readonly Node[]): string {
    const sorted = [...children].sort((a, b) => Buffer.compare(nodeNameBytes(a), nodeNameBytes(b)));
    return this.#add(encodeTree(sorted), 'tree');
  }

  /** Stores the pending pack and an index for it. */
  async flush(): Promise<void> {
    if (this.#pack.count === 0) return;
    await this.repo.savePack(this.#pack.finish());
    await this.repo.flushIndex();
    this.#pack = new PackBuilder(this.repo.sealer);
  }

  /** Flushes, then stores a snapshot of `root` (a root tree id). */
  async snapshot(root: string, o: { time?: string; host?: string; paths?: string[]; tags?: string[] } = {}): Promise<string> {
    await this.flush();
    return await saveSnapshot(this.repo, { time: o.time ?? '2024-01-01T00:00:00.000Z', tree: root, paths: o.paths ?? ['/data'], hostname: o.host ?? 'h', username: 'u', uid: 0, gid: 0, tags: o.tags ?? [], programVersion: 'test' });
  }

  async done(): Promise<void> {
    await this.repo.close();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
