import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PathMap } from './path-map.ts';

test('recorded paths map to where they are read; the longest mapping wins', () => {
  const m = new PathMap([
    { recorded: '/home', real: '/mnt/snap/' },
    { recorded: '/home/ann/big', real: '/mnt/other' },
  ]);
  assert.equal(m.real('/home'), '/mnt/snap');
  assert.equal(m.real('/home/'), '/mnt/snap');
  assert.equal(m.real('/home/ann/x'), '/mnt/snap/ann/x');
  assert.equal(m.real('/home/ann/big/y'), '/mnt/other/y');
  assert.equal(m.real('/homeless'), '/homeless', 'a prefix of a name is no parent');
  assert.equal(m.real('/etc'), '/etc');
  assert.deepEqual(m.realBytes(Buffer.from('/home/ann/\xff', 'latin1')), Buffer.from('/mnt/snap/ann/\xff', 'latin1'));
  assert.deepEqual(m.realBytes(Buffer.from('/etc/x')), Buffer.from('/etc/x'));
});

test('the root as recorded or as read', () => {
  const fromRoot = new PathMap([{ recorded: '/', real: '/mnt/snap' }]);
  assert.equal(fromRoot.real('/'), '/mnt/snap');
  assert.equal(fromRoot.real('/etc/x'), '/mnt/snap/etc/x');
  const toRoot = new PathMap([{ recorded: '/data', real: '/' }]);
  assert.equal(toRoot.real('/data'), '/');
  assert.equal(toRoot.real('/data/x'), '/x');
  assert.deepEqual(toRoot.realBytes(Buffer.from('/data/x')), Buffer.from('/x'));
  assert.equal(new PathMap([]).empty, true);
});

test('relative paths are refused', () => {
  assert.throws(() => new PathMap([{ recorded: 'home', real: '/x' }]), /recorded path must be an absolute path/);
  assert.throws(() => new PathMap([{ recorded: '/home', real: 'x' }]), /source path must be an absolute path/);
});
