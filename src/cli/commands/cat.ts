import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import type { IndexedPack } from '../../repository/index-format.ts';
import { decodeIndexDirFile } from '../../repository/mark-format.ts';
import { isId, parseIdPrefix } from '../../repository/ids.ts';
import { readPackHeader } from '../../repository/pack-format.ts';
import { parseKeyFile } from '../../repository/keyfile.ts';
import { listSnapshots, resolveSnapshot } from '../../repository/snapshots.ts';
import { loadTree } from '../../restorer/tree-loader.ts';
import type { Repository } from '../../repository/repository.ts';
import type { FileType } from '../../backend/backend.ts';
import { type Context, withRepository } from '../context.ts';
import { reportUnreadableSnapshot } from './common.ts';
import { resolveRef } from './snapshot-ref.ts';

const TYPES = ['config', 'masterkey', 'key', 'snapshot', 'index', 'lock', 'pack', 'blob', 'tree'];

export function registerCat(program: Command, ctx: () => Context): void {
  program
    .command('cat')
    .description('print repository objects (config, masterkey, key, snapshot, index, lock, pack, blob, tree)')
    .argument('<type>', TYPES.join('|'))
    .argument('[id]', 'object ID, unique prefix, or for tree: SNAPSHOT[:PATH]')
    .action(async (type: string, id: string | undefined) => {
      const c = ctx();
      if (!TYPES.includes(type)) throw new UsageError(`unknown type ${JSON.stringify(type)}; expected one of ${TYPES.join(', ')}`);
      if (type !== 'config' && type !== 'masterkey' && !id) throw new UsageError(`cat ${type} needs an ID`);
      await withRepository(c, { lock: 'none' }, async (repo) => {
        const pretty = (o: unknown): void => c.out.data(JSON.stringify(o, null, 2));
        switch (type) {
          case 'config':
            return pretty(repo.config);
          case 'masterkey':
            return pretty({ encrypt: repo.key.encrypt.toString('base64'), id: repo.key.id.toString('base64'), chunker: repo.key.chunker.toString('base64') });
          case 'key':
            return pretty(parseKeyFile(await repo.backend.load({ type: 'key', name: await findName(repo, 'key', id!) })));
          case 'snapshot': {
            const s = resolveSnapshot(await listSnapshots(repo, { signal: c.signal, onError: reportUnreadableSnapshot(c) }), id!);
            const { id: _id, ...body } = s;
            return pretty(body);
          }
          case 'lock':
            return pretty(await repo.loadJson('lock', await findName(repo, 'lock', id!), c.signal));
          case 'index': {
            const file = decodeIndexDirFile(await repo.loadFile('index', await findName(repo, 'index', id!), c.signal));
            const packs = (list: readonly IndexedPack[]): unknown[] =>
              list.map((p) => ({ id: p.id, blobs: p.blobs.map((b) => ({ id: b.id.toString('hex'), type: b.type, offset: b.offset, length: b.length, uncompressed_length: b.rawLength })) }));
            // a prune's mark file lives in the index directory too: its restated entries are listed as its packs
            if (file.kind === 'mark') return pretty({ mark: { time: new Date(file.mark.time).toISOString(), marked_packs: file.mark.packs }, packs: packs(file.mark.restated) });
            return pretty({ packs: packs(file.packs) });
          }
          case 'pack': {
            const name = await findName(repo, 'pack', id!);
            const data = Buffer.from(await repo.backend.load({ type: 'pack', name }));
            return pretty({ id: name, size: data.length, blobs: readPackHeader(data, repo.sealer).map((b) => ({ id: b.id.toString('hex'), type: b.type, offset: b.offset, length: b.length, uncompressed_length: b.rawLength })) });
          }
          case 'blob': {
            if (!isId(id!)) throw new UsageError('cat blob needs a full 64-hex-digit blob ID');
            const data = await repo.loadBlob(Buffer.from(id!, 'hex'), c.signal);
            await new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(e) : resolve())));
            return;
          }
          case 'tree': {
            if (isId(id!) && repo.lookupBlob(Buffer.from(id!, 'hex'))?.type === 'tree') return pretty(await loadTree(repo, id!, c.signal));
            const { snapshot, node } = await resolveRef(repo, id!, {}, c.signal, reportUnreadableSnapshot(c));
            const tree = node === undefined ? snapshot.tree : node.subtree;
            if (!tree) throw new UsageError(`${id} is not a directory`);
            return pretty(await loadTree(repo, tree, c.signal));
          }
        }
      });
    });
}

async function findName(repo: Repository, type: FileType, ref: string): Promise<string> {
  const p = parseIdPrefix(ref);
  const hits: string[] = [];
  for await (const f of repo.backend.list(type)) if (f.name.startsWith(p)) hits.push(f.name);
  if (hits.length === 0) throw new UsageError(`no ${type} file matches ${JSON.stringify(ref)}`);
  if (hits.length > 1) throw new UsageError(`${type} ID prefix ${JSON.stringify(ref)} is ambiguous`);
  return hits[0] as string;
}
