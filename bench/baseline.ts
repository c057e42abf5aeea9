/**
 * The benchmark's baseline (B): the physical ceiling of this design. node:http, one prepared
 * `SELECT record FROM clients WHERE client_ref = ?` on the gateway's records file (opened read-only), and the
 * stored JSON text sent back as it is. No token, no policy, no audit: what the gateway costs is measured against it.
 *
 * Usage: node --import tsx bench/baseline.ts DB_FILE PORT   (prints one JSON line `{"msg":"listening","port":N}`)
 */
import http from 'node:http';
import Database from 'better-sqlite3';

const [file, portArg] = process.argv.slice(2);
if (!file || portArg === undefined) {
  console.error('usage: baseline.ts DB_FILE PORT');
  process.exit(2);
}

const db = new Database(file, { readonly: true, fileMustExist: true });
const get = db.prepare<[string], { record: string }>('SELECT record FROM clients WHERE client_ref = ?');
const prefix = '/v1/clients/';

const server = http.createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method !== 'GET' || !url.startsWith(prefix)) {
    res.writeHead(404).end();
    return;
  }
  const row = get.get(decodeURIComponent(url.slice(prefix.length)));
  if (!row) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(row.record) });
  res.end(row.record);
});
server.keepAliveTimeout = 60_000;

server.listen(Number(portArg), '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ msg: 'listening', port: typeof address === 'object' && address ? address.port : null }));
});

const stop = () => {
  server.close(() => {
    db.close();
    process.exit(0);
  });
  server.closeIdleConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
