/**
 * A file that changes while it is being read is detected and reported (a warning naming it); the snapshot is still
 * written, and the file is read again by the next backup (its files-cache entry is not trusted).
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, jsonLines, writeRandomFile } from './helpers.ts';

test('a file growing during the backup is reported as changed and re-read next time', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  const file = join(sb.src, 'growing.log');
  writeRandomFile(file, 192 << 20);
  writeFileSync(join(sb.src, 'steady.txt'), 'steady\n');
  const child = sb.spawn(['--json', 'backup', sb.src]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => (running = false));
  // keep appending until the backup is over, so the file always changes under the reader
  while (running) {
    appendFileSync(file, 'more log lines\n');
    await new Promise((r) => setTimeout(r, 2));
  }
  const code = await exited;
  assert.equal(code, 0, out);
  const lines = jsonLines(out);
  const warnings = lines.filter((l) => l.message_type === 'error' && l.kind === 'changed');
  assert.equal(warnings.length, 1, `one "changed" warning expected, got ${JSON.stringify(lines.filter((l) => l.message_type === 'error'))}`);
  assert.equal(warnings[0]?.item, file);
  const summary = lines.find((l) => l.message_type === 'summary');
  assert.ok(summary?.snapshot_id, 'the snapshot is still written');

  appendFileSync(file, 'x'); // make sure the next run sees the final state either way
  const again = await sb.cli(['--json', 'backup', sb.src]);
  assertExit(again, 0, 'second backup');
  const s2 = jsonLines(again.stdout).find((l) => l.message_type === 'summary');
  assert.equal((s2?.files_unmodified as number) ?? 0, 1, 'only steady.txt comes from the files cache');
});
