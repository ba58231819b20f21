import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestNode, type TestNode } from './support/node.js';

describe('access log', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
    await node.services.users.add({ name: 'al', password: 'access-log-pw' });
  });
  after(() => node.stop());

  it('logs method, path without query, status and duration — never headers', async () => {
    await fetch(`${node.url}/healthz?token=SECRET-IN-QUERY`, { headers: { authorization: 'Bearer HEADER-SECRET' } });
    await new Promise((r) => setTimeout(r, 50));
    const line = node.logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.path === '/healthz');
    assert.ok(line, 'a request line');
    assert.equal(line.method, 'GET');
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, 'number');
    assert.ok(!node.logLines.join('').includes('SECRET'));
  });

  it('survives clients that abort mid-request (the process keeps serving)', async () => {
    const uncaught: Error[] = [];
    const onErr = (e: Error) => uncaught.push(e);
    process.on('uncaughtException', onErr);
    try {
      const u = new URL(node.url);
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve) => {
          const req = http.request({
            host: u.hostname, port: u.port, method: 'PUT', path: `/remote.php/dav/files/al/abort-${i}.bin`,
            headers: { authorization: 'Basic ' + Buffer.from('al:access-log-pw').toString('base64'), 'content-length': 10_000_000 },
          });
          req.on('error', () => resolve());
          req.write(Buffer.alloc(65536));
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 20);
        });
      }
      // An early answer (412) while the client is still sending the body, then the client goes.
      const auth = 'Basic ' + Buffer.from('al:access-log-pw').toString('base64');
      await fetch(`${node.url}/remote.php/dav/files/al/exists.txt`, { method: 'PUT', body: 'x', headers: { authorization: auth } });
      for (let i = 0; i < 10; i++) {
        await new Promise<void>((resolve) => {
          const req = http.request({
            host: u.hostname, port: u.port, method: 'PUT', path: '/remote.php/dav/files/al/exists.txt',
            headers: { authorization: auth, 'if-none-match': '*', 'content-length': 50_000_000 },
          });
          req.on('error', () => resolve());
          req.on('response', (res) => {
            res.resume();
            setTimeout(() => {
              req.destroy();
              resolve();
            }, 30);
          });
          const pump = () => {
            if (!req.destroyed && req.write(Buffer.alloc(65536))) setTimeout(pump, 5);
          };
          pump();
        });
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(uncaught, []);
      assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
    } finally {
      process.off('uncaughtException', onErr);
    }
  });
});
