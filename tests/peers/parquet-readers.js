// Independent Parquet readers for the Parquet writer tests. One process serves the whole test run (a reader start
// costs about half a second): it reads one JSON request per line on stdin ({"id": 1, "file": "/abs/path.parquet"})
// and answers one JSON line per request on stdout with what DuckDB and hyparquet each read from the file:
// rows (values in a canonical form, see canon*), schema, row groups, codecs and statistics. When hyparquet has no
// decoder for a codec of the file, the answer carries hyparquetSkipped (the reason) instead of hyparquet.
// Prints "parquet readers ready" when it accepts requests.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const readline = require('readline');
const { DuckDBInstance } = require('@duckdb/node-api');

// Canonical values shared by both readers: null, true/false, integers as decimal strings, floating values as
// JSON numbers (or "NaN", "Infinity", "-Infinity", "-0"), decimals as {"dec": "<digits>"} (DuckDB, exact) or
// {"decn": number} (hyparquet, which parses decimals to doubles), strings as strings, binary as "0x<hex>",
// timestamps as "ts:<microseconds since epoch>", dates as "date:<days since epoch>", lists as arrays, maps as
// arrays of [key, value] pairs.
function canonNumber(n) {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (n === 0 && 1 / n < 0) return '-0';
  return n;
}

function hex(bytes) {
  return '0x' + Buffer.from(bytes).toString('hex');
}

function decimalString(unscaled, scale) {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  }
  return (negative ? '-' : '') + digits;
}

function canonDuck(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return canonNumber(v);
  const name = v.constructor && v.constructor.name;
  switch (name) {
    case 'DuckDBTimestampTZValue':
    case 'DuckDBTimestampValue':
      return 'ts:' + v.micros.toString();
    case 'DuckDBTimestampMillisecondsValue':
      return 'ts:' + (v.millis * 1000n).toString();
    case 'DuckDBDateValue':
      return 'date:' + v.days;
    case 'DuckDBDecimalValue':
      return { dec: decimalString(v.value, v.scale) };
    case 'DuckDBBlobValue':
      return hex(v.bytes);
    case 'DuckDBListValue':
      return v.items.map(canonDuck);
    case 'DuckDBMapValue':
      return v.entries.map((e) => [String(canonDuck(e.key)), canonDuck(e.value)]);
    default:
      return { unknown: String(v), type: name };
  }
}

const hypParsers = {
  timestampFromMilliseconds: (ms) => 'ts:' + (BigInt(ms) * 1000n).toString(),
  timestampFromMicroseconds: (us) => 'ts:' + BigInt(us).toString(),
  timestampFromNanoseconds: (ns) => 'ts:' + (BigInt(ns) / 1000n).toString(),
  dateFromDays: (days) => 'date:' + days,
};

function canonHyp(v, kind) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (kind === 'DECIMAL') return { decn: v };
    if (kind === 'INT') return String(v);
    return canonNumber(v);
  }
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map((x) => canonHyp(x, kind));
  if (v instanceof Date) return 'ts:' + (BigInt(v.getTime()) * 1000n).toString();
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => [String(k), canonHyp(x, kind)]);
  return { unknown: String(v) };
}

// The kind of each top-level column for hyparquet's number values: DECIMAL and INT need telling apart from doubles.
function leafKinds(schema) {
  const kinds = {};
  let i = 1;
  function walk(depth, top) {
    const el = schema[i++];
    const name = top || el.name;
    if (el.num_children) {
      for (let c = 0; c < el.num_children; c++) walk(depth + 1, name);
      return;
    }
    const lt = el.logical_type && el.logical_type.type;
    if (el.converted_type === 'DECIMAL' || lt === 'DECIMAL') kinds[name] = 'DECIMAL';
    else if (el.type === 'INT32' || el.type === 'INT64') kinds[name] = 'INT';
    else kinds[name] = el.type; // for a map the value leaf (the last) decides
  }
  const root = schema[0];
  for (let c = 0; c < root.num_children; c++) walk(1, null);
  return kinds;
}

function jsonSafe(key, value) {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return hex(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

async function readDuck(connection, file) {
  const quoted = "'" + file.replace(/'/g, "''") + "'";
  const out = {};
  const rows = await connection.runAndReadAll(`SELECT * FROM read_parquet(${quoted})`);
  out.columns = rows.columnNames();
  out.rows = rows.getRows().map((r) => r.map(canonDuck));
  out.schema = (await connection.runAndReadAll(`SELECT name, type, type_length, repetition_type, num_children, converted_type, scale, precision, logical_type FROM parquet_schema(${quoted})`)).getRowObjectsJson();
  out.metadata = (await connection.runAndReadAll(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, type, num_values, compression, encodings, stats_min_value, stats_max_value, stats_null_count, dictionary_page_offset, data_page_offset, total_compressed_size, total_uncompressed_size FROM parquet_metadata(${quoted}) ORDER BY row_group_id, column_id`)).getRowObjectsJson();
  out.file = (await connection.runAndReadAll(`SELECT created_by, num_rows, num_row_groups FROM parquet_file_metadata(${quoted})`)).getRowObjectsJson()[0];
  return out;
}

async function readHyp(hyparquet, file) {
  const bytes = fs.readFileSync(file);
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = hyparquet.parquetMetadata(arrayBuffer, { parsers: hypParsers });
  const kinds = leafKinds(metadata.schema);
  const compressors = {
    GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
    BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  };
  if (typeof zlib.zstdDecompressSync === 'function') {
    compressors.ZSTD = (input) => new Uint8Array(zlib.zstdDecompressSync(input));
  }
  // hyparquet decodes UNCOMPRESSED and SNAPPY itself; a codec without a decoder here (ZSTD before node 22.15) is
  // reported as skipped, not as a reader error.
  const codecs = new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data.codec)));
  const missing = [...codecs].filter((c) => c !== 'UNCOMPRESSED' && c !== 'SNAPPY' && !compressors[c]);
  if (missing.length) return { skipped: `no ${missing.join(', ')} decoder in node ${process.version}` };
  const objects = await hyparquet.parquetReadObjects({ file: arrayBuffer, compressors, parsers: hypParsers, utf8: false, metadata });
  const columns = metadata.schema[0].num_children ? topNames(metadata.schema) : [];
  return {
    columns,
    rows: objects.map((o) => columns.map((c) => canonHyp(o[c], kinds[c]))),
    metadata: JSON.parse(JSON.stringify({
      num_rows: metadata.num_rows,
      created_by: metadata.created_by,
      schema: metadata.schema,
      key_value_metadata: metadata.key_value_metadata,
      column_orders: metadata.column_orders,
      row_groups: metadata.row_groups.map((g) => ({
        num_rows: g.num_rows,
        columns: g.columns.map((c) => ({
          path: c.meta_data.path_in_schema.join('.'),
          codec: c.meta_data.codec,
          encodings: c.meta_data.encodings,
          num_values: c.meta_data.num_values,
          statistics: c.meta_data.statistics,
        })),
      })),
    }, jsonSafe)),
  };
}

function topNames(schema) {
  const names = [];
  let i = 1;
  function skip() {
    const el = schema[i++];
    for (let c = 0; c < (el.num_children || 0); c++) skip();
    return el.name;
  }
  for (let c = 0; c < schema[0].num_children; c++) names.push(skip());
  return names;
}

async function main() {
  const hyparquet = await import('hyparquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    if (!line.trim()) return;
    queue = queue.then(async () => {
      let request = {};
      const answer = {};
      try {
        request = JSON.parse(line);
        answer.id = request.id;
        try { answer.duckdb = await readDuck(connection, request.file); } catch (e) { answer.duckdbError = String(e && e.message || e); }
        try {
          const hyp = await readHyp(hyparquet, request.file);
          if (hyp.skipped) answer.hyparquetSkipped = hyp.skipped; else answer.hyparquet = hyp;
        } catch (e) { answer.hyparquetError = String(e && e.stack || e); }
      } catch (e) {
        answer.id = request.id === undefined ? null : request.id;
        answer.error = String(e && e.message || e);
      }
      process.stdout.write(JSON.stringify(answer, jsonSafe) + '\n');
    });
  });
  lines.on('close', () => queue.then(() => process.exit(0)));
  console.log('parquet readers ready');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
