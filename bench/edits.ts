import { appendFile, mkdir, open, readFile, rename, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RANDOM_DIR, SMALL_DIR, randomFileName } from './corpus.ts';
import { MiB, byteOrder, exists, removeTree, walk } from './fsutil.ts';
import { createByteStream, createRng, createTextGen } from './prng.ts';

/**
 * The deterministic edit applied to the corpus between "unchanged" and "after edits" backups, and its undo journal.
 * The journal is written before anything is modified, and reverting is idempotent, so an interrupted run is repaired
 * by the next one (see `revertEdits`).
 */
export const EDIT_PLAN = {
  appendFraction: 0.01,
  rewriteBytes: 1 * MiB,
  addFiles: 50,
  deleteFiles: 20,
} as const;

export function describeEdits(): string {
  return (
    `append 256 B–2 KiB of text to ${EDIT_PLAN.appendFraction * 100}% of the small files, ` +
    `overwrite ${EDIT_PLAN.rewriteBytes / MiB} MiB in the middle of ${RANDOM_DIR}/${randomFileName(0)}, ` +
    `add ${EDIT_PLAN.addFiles} new small files, delete ${EDIT_PLAN.deleteFiles} small files`
  );
}

interface Times {
  atimeMs: number;
  mtimeMs: number;
}

interface Journal {
  data: string;
  appended: ({ path: string; size: number } & Times)[];
  rewrite: ({ path: string; offset: number; saved: string } & Times) | null;
  added: string[];
  deleted: { path: string; saved: string }[];
  dirs: ({ path: string } & Times)[];
}

export interface EditSummary {
  appended: number;
  appendedBytes: number;
  rewrittenBytes: number;
  added: number;
  addedBytes: number;
  deleted: number;
}

function undoDir(workDir: string): string {
  return join(workDir, 'edit-undo');
}

async function times(p: string): Promise<Times> {
  const st = await stat(p);
  return { atimeMs: st.atimeMs, mtimeMs: st.mtimeMs };
}

async function setTimes(p: string, t: Times): Promise<void> {
  await utimes(p, t.atimeMs / 1000, t.mtimeMs / 1000).catch(() => undefined);
}

export async function applyEdits(data: string, workDir: string, seed: string): Promise<EditSummary> {
  const undo = undoDir(workDir);
  if (await exists(join(undo, 'journal.json'))) throw new Error(`edits are already applied (journal in ${undo}); revert first`);
  await removeTree(undo);
  await mkdir(join(undo, 'deleted'), { recursive: true });

  const smallRoot = join(data, SMALL_DIR);
  const files: string[] = [];
  const dirSet = new Set<string>();
  for await (const e of walk(smallRoot)) {
    if (e.st.isFile()) files.push(e.abs);
    else if (e.st.isDirectory()) dirSet.add(e.abs);
  }
  files.sort(byteOrder);
  const dirs = [...dirSet].toSorted(byteOrder);
  const rng = createRng(`${seed}:edits`);
  const text = createTextGen(`${seed}:edits`);
  const shuffled = rng.shuffled(files);
  const nAppend = Math.max(1, Math.round(files.length * EDIT_PLAN.appendFraction));
  const toAppend = shuffled.slice(0, nAppend);
  const toDelete = shuffled.slice(nAppend, nAppend + EDIT_PLAN.deleteFiles);
  const toAdd: { path: string; content: string }[] = [];
  for (let i = 0; i < EDIT_PLAN.addFiles; i++) {
    const d = dirs.length > 0 ? rng.pick(dirs) : smallRoot;
    toAdd.push({ path: join(d, `new-edit-${String(i).padStart(3, '0')}.txt`), content: text.text(rng.int(100, 8192)) });
  }
  const appendText = toAppend.map(() => text.text(rng.int(256, 2048)));
  const big = join(data, RANDOM_DIR, randomFileName(0));
  const touchedDirs = [...new Set([...toAdd.map((a) => dirname(a.path)), ...toDelete.map((p) => dirname(p))])].toSorted(byteOrder);

  // 1. Save everything needed to undo, then write the journal, then modify.
  const journal: Journal = { data, appended: [], rewrite: null, added: toAdd.map((a) => a.path), deleted: [], dirs: [] };
  for (const p of toAppend) journal.appended.push({ path: p, size: (await stat(p)).size, ...(await times(p)) });
  for (const d of touchedDirs) journal.dirs.push({ path: d, ...(await times(d)) });
  let rewriteLen = 0;
  if (await exists(big)) {
    const size = (await stat(big)).size;
    rewriteLen = Math.min(EDIT_PLAN.rewriteBytes, size);
    const offset = Math.max(0, Math.floor((size - rewriteLen) / 2 / 4096) * 4096);
    const buf = Buffer.alloc(rewriteLen);
    const fh = await open(big, 'r');
    try {
      await fh.read(buf, 0, rewriteLen, offset);
    } finally {
      await fh.close();
    }
    const saved = join(undo, 'rewrite.bin');
    await writeFile(saved, buf);
    journal.rewrite = { path: big, offset, saved, ...(await times(big)) };
  }
  journal.deleted = toDelete.map((p, i) => ({ path: p, saved: join(undo, 'deleted', String(i)) }));
  await writeFile(join(undo, 'journal.json'), JSON.stringify(journal));

  // 2. Modify.
  let appendedBytes = 0;
  for (const [i, p] of toAppend.entries()) {
    const t = appendText[i] ?? '';
    await appendFile(p, t);
    appendedBytes += t.length;
  }
  if (journal.rewrite) {
    const fh = await open(journal.rewrite.path, 'r+');
    try {
      await fh.write(createByteStream(`${seed}:edit-rewrite`).next(rewriteLen), 0, rewriteLen, journal.rewrite.offset);
    } finally {
      await fh.close();
    }
  }
  let addedBytes = 0;
  for (const a of toAdd) {
    await writeFile(a.path, a.content);
    addedBytes += a.content.length;
  }
  for (const d of journal.deleted) await rename(d.path, d.saved);
  return { appended: toAppend.length, appendedBytes, rewrittenBytes: rewriteLen, added: toAdd.length, addedBytes, deleted: toDelete.length };
}

/** Undoes applied (or half-applied) edits. Returns false when there was nothing to revert. */
export async function revertEdits(workDir: string): Promise<boolean> {
  const undo = undoDir(workDir);
  const jp = join(undo, 'journal.json');
  if (!(await exists(jp))) {
    await removeTree(undo);
    return false;
  }
  const j = JSON.parse(await readFile(jp, 'utf8')) as Journal;
  for (const a of j.appended) {
    const st = await stat(a.path).catch(() => undefined);
    if (st && st.size !== a.size) await truncate(a.path, a.size);
    await setTimes(a.path, a);
  }
  if (j.rewrite && (await exists(j.rewrite.saved))) {
    const buf = await readFile(j.rewrite.saved);
    const fh = await open(j.rewrite.path, 'r+');
    try {
      await fh.write(buf, 0, buf.length, j.rewrite.offset);
    } finally {
      await fh.close();
    }
    await setTimes(j.rewrite.path, j.rewrite);
  }
  for (const p of j.added) await removeTree(p);
  for (const d of j.deleted) if (await exists(d.saved)) await rename(d.saved, d.path);
  for (const d of j.dirs) await setTimes(d.path, d);
  await removeTree(undo);
  return true;
}
