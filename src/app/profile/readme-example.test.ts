import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from './load.ts';

test("the README's complete example configuration is valid", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('A complete example:\n```toml\n');
  assert.ok(start >= 0, 'the README has the example');
  const body = readme.slice(readme.indexOf('\n', readme.indexOf('```toml', start)) + 1);
  const r = parseConfig(body.slice(0, body.indexOf('```')), 'README.md');
  assert.deepEqual(r.problems, []);
  assert.deepEqual([...(r.config?.profiles.keys() ?? [])], ['home', 'root']);
});
