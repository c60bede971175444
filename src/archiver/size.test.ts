import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.ts';
import { parseSize } from './size.ts';

test('parseSize accepts numbers with binary units', () => {
  const K = 1024;
  const cases: [string, number][] = [
    ['0', 0],
    ['100', 100],
    ['100b', 100],
    ['100B', 100],
    ['10k', 10 * K],
    ['10K', 10 * K],
    ['10kb', 10 * K],
    ['10KiB', 10 * K],
    ['10 KiB', 10 * K],
    ['1.5M', 1.5 * K * K],
    ['1.5m', 1.5 * K * K],
    ['2G', 2 * K ** 3],
    ['2gib', 2 * K ** 3],
    ['1T', K ** 4],
    ['1TB', K ** 4],
    ['.5k', 512],
    ['0.1k', 102],
    [' 7M ', 7 * K * K],
  ];
  for (const [s, n] of cases) assert.equal(parseSize(s), n, s);
});

test('parseSize rejects garbage', () => {
  for (const s of ['', ' ', 'abc', '-1', '-1k', '10x', '10kk', '1.5', '1e3', '10 k b', 'k', '0x10', '10iB', '1,5M', '1P', '99999999999T']) {
    assert.throws(() => parseSize(s), UsageError, JSON.stringify(s));
  }
});
