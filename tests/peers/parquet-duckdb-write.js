// DuckDB's own Parquet writer as the reference for the Parquet benchmark: loads JSON lines into an in-memory
// table (not timed), then times COPY ... TO parquet with SNAPPY, single-threaded and with all threads.
// Usage: node parquet-duckdb-write.js <rows.jsonl> <out-prefix> <repetitions>
// Prints one JSON line: {"rows", "single": {"ms", "bytes"}, "multi": {"ms", "bytes", "threads"}} (best of the repetitions).
'use strict';
const fs = require('fs');
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const [input, outPrefix, repetitionsText] = process.argv.slice(2);
  const repetitions = Number(repetitionsText || '3');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const q = (s) => "'" + s.replace(/'/g, "''") + "'";
  await connection.run(`CREATE TABLE clicks AS SELECT * FROM read_json(${q(input)}, format = 'newline_delimited', columns = {
    event_time: 'TIMESTAMP', event_type: 'VARCHAR', page: 'VARCHAR', referrer: 'VARCHAR', user_id: 'BIGINT',
    session_id: 'VARCHAR', country: 'VARCHAR', device: 'VARCHAR', duration_ms: 'INTEGER', revenue: 'DOUBLE'})`);
  const rows = Number((await connection.runAndReadAll('SELECT count(*) AS n FROM clicks')).getRows()[0][0]);
  const threads = Number((await connection.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0]);

  async function timeCopy(threadCount, file) {
    await connection.run(`SET threads = ${threadCount}`);
    let best = Infinity;
    for (let i = 0; i < repetitions; i++) {
      const started = process.hrtime.bigint();
      await connection.run(`COPY clicks TO ${q(file)} (FORMAT parquet, COMPRESSION snappy)`);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      best = Math.min(best, ms);
    }
    return { ms: best, bytes: fs.statSync(file).size, threads: threadCount };
  }

  const single = await timeCopy(1, outPrefix + '-duckdb-1.parquet');
  const multi = await timeCopy(threads, outPrefix + '-duckdb-n.parquet');
  process.stdout.write(JSON.stringify({ rows, single, multi }) + '\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
