import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { allowedHosts, authenticate, cookieValue, csrfOk, hostAllowed, sessionCookie } from './auth.ts';
import { contentDisposition } from './download.ts';
import { esc, formatBytes, formatMode, qs } from './html.ts';
import { badPath } from './http.ts';
import { renderHunks } from './pages-diff.ts';

test('esc leaves no markup-significant character', () => {
  assert.equal(esc(`<a href="x" onclick='y'>&amp;</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const e = esc(s);
      assert.ok(!/[<>"']/.test(e));
      assert.ok(!/&(?!amp;|lt;|gt;|quot;|#39;)/.test(e));
      const back = e.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
      assert.equal(back, s);
    }),
  );
});

test('qs drops empty values and encodes the rest', () => {
  assert.equal(qs({ snap: 'ab', p: '/a b/&c', x: undefined, y: '' }), '?snap=ab&p=%2Fa+b%2F%26c');
  assert.equal(qs({}), '');
});

test('badPath refuses path tricks and accepts plain routes', () => {
  for (const ok of ['/', '/browse', '/browse?snap=1&p=/a/../b', '/restore/job?id=x', '/search?q=%2F..%2F']) assert.equal(badPath(ok), undefined, ok);
  for (const bad of ['/../etc/passwd', '/browse/../x', '/./browse', '//browse', '/browse//x', '/%2e%2e/x', '/browse%2F..', '/a\\b', '/a\0b', 'browse', '/x?y=\u0001']) assert.notEqual(badPath(bad), undefined, bad);
});

test('authenticate: bearer, cookie, query, none; constant-time compare of equal-length tokens', () => {
  const tok = 'T0ken_abc';
  const url = (q = ''): URL => new URL(`http://h/${q}`);
  assert.equal(authenticate({ headers: { authorization: `Bearer ${tok}` } }, url(), tok), 'bearer');
  assert.equal(authenticate({ headers: { cookie: `a=1; pybackup_token=${tok}` } }, url(), tok), 'cookie');
  assert.equal(authenticate({ headers: {} }, url(`?token=${tok}`), tok), 'query');
  assert.equal(authenticate({ headers: { authorization: 'Bearer T0ken_abd', cookie: 'pybackup_token=x' } }, url('?token=T0ken_ab'), tok), 'none');
  assert.equal(cookieValue('x=1;  pybackup_token = v ', 'pybackup_token'), 'v');
  assert.match(sessionCookie(tok), /HttpOnly; SameSite=Strict; Path=\//);
});

test('csrf: the form token must match and a sent Origin must be this server', () => {
  const h = (extra: Record<string, string>): { headers: Record<string, string> } => ({ headers: { host: '127.0.0.1:8080', ...extra } });
  assert.equal(csrfOk(h({}), 'tok', 'tok'), true);
  assert.equal(csrfOk(h({ origin: 'http://127.0.0.1:8080' }), 'tok', 'tok'), true);
  assert.equal(csrfOk(h({ origin: 'http://evil.example' }), 'tok', 'tok'), false);
  assert.equal(csrfOk(h({ origin: 'null' }), 'tok', 'tok'), false);
  assert.equal(csrfOk(h({}), undefined, 'tok'), false);
  assert.equal(csrfOk(h({}), 'tox', 'tok'), false);
});

test('host check: loopback names for a loopback server, nothing else', () => {
  const hosts = allowedHosts('127.0.0.1', 8080);
  for (const ok of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST:8080', '[::1]:8080']) assert.ok(hostAllowed(ok, hosts), ok);
  for (const bad of ['evil.example:8080', '127.0.0.1:8081', undefined]) assert.ok(!hostAllowed(bad, hosts), String(bad));
  assert.ok(hostAllowed('[fd00::1]:80', allowedHosts('fd00::1', 80)));
});

test('Content-Disposition: ASCII fallback and RFC 5987 filename*', () => {
  assert.equal(contentDisposition('a.txt'), `attachment; filename="a.txt"; filename*=UTF-8''a.txt`);
  assert.equal(contentDisposition('ré "q"\\.txt'), `attachment; filename="r_ _q__.txt"; filename*=UTF-8''r%C3%A9%20%22q%22%5C.txt`);
  assert.equal(contentDisposition("it's (1)*"), `attachment; filename="it's (1)*"; filename*=UTF-8''it%27s%20%281%29%2A`);
  assert.doesNotMatch(contentDisposition('a\r\nSet-Cookie: x'), /[\r\n]/);
});

test('formats', () => {
  assert.equal(formatMode('file', 0o644), '-rw-r--r--');
  assert.equal(formatMode('dir', 0o1777), 'drwxrwxrwt');
  assert.equal(formatMode('file', 0o4755), '-rwsr-xr-x');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(3 << 20), '3.00 MiB');
});

test('diff lines are escaped and classed', () => {
  const html = renderHunks([{ oldStart: 1, oldLines: 1, newStart: 1, newLines: 1, lines: ['-<script>x</script>\n', '+b & c'] }]);
  assert.match(html, /<span class="del">-&lt;script&gt;x&lt;\/script&gt;<\/span>/);
  assert.match(html, /<span class="add">\+b &amp; c<\/span>/);
  assert.match(html, /No newline at end of file/);
  assert.doesNotMatch(html, /<script/);
});
