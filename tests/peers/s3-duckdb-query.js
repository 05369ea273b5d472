// A DuckDB query server for the S3 sink tests: reads one JSON request per line on stdin
// ({"id": 1, "sql": "SELECT ..."}) and answers one JSON line per request on stdout
// ({"id": 1, "rows": [...]} or {"id": 1, "error": "..."}). One process serves the whole test run,
// because starting DuckDB costs about half a second. Prints "duckdb ready" when it accepts requests.
'use strict';
const readline = require('readline');
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  // Requests are answered in order, one at a time.
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    if (!line.trim()) return;
    queue = queue.then(async () => {
      let request;
      try {
        request = JSON.parse(line);
        const reader = await connection.runAndReadAll(request.sql);
        process.stdout.write(JSON.stringify({ id: request.id, rows: reader.getRowObjectsJson() }) + '\n');
      } catch (error) {
        process.stdout.write(JSON.stringify({ id: request ? request.id : null, error: String(error && error.message || error) }) + '\n');
      }
    });
  });
  lines.on('close', () => queue.then(() => process.exit(0)));
  console.log('duckdb ready');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
