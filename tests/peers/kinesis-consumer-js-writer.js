// Writes records to a Kinesis stream with the AWS JavaScript SDK (v3), for the .NET consumer to read:
// plain records with PutRecords (including a unicode partition key and an explicit hash key), and KPL aggregates
// built by aws-kinesis-agg (one aggregate per partition key, so each lands on its key's shard) sent with PutRecord.
// Prints "written <JSON array of 'partitionKey|payload'>" and then waits until its standard input closes.
// usage: node kinesis-consumer-js-writer.js <endpoint> <stream> <plainCount> <aggregatedKeys> <recordsPerAggregate>
'use strict';
const { KinesisClient, PutRecordsCommand, PutRecordCommand } = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const agg = require('aws-kinesis-agg');

const [endpoint, stream, plainText, aggKeysText, perAggText] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  requestHandler: new NodeHttpHandler(),
  maxAttempts: 5,
});

function aggregateOne(records) {
  return new Promise((resolve, reject) => {
    const encoded = [];
    agg.aggregate(records, (record, done) => { encoded.push(record); done(); }, () => resolve(encoded), reject);
  });
}

async function main() {
  const written = [];
  const plain = [];
  for (let i = 0; i < Number(plainText); i++) {
    const key = i % 10 === 0 ? 'ключ-🙂' : `js-${i % 7}`;
    const payload = `js#${String(i).padStart(5, '0')}`;
    const entry = { PartitionKey: key, Data: Buffer.from(payload) };
    if (i === 1) {
      entry.ExplicitHashKey = '340282366920938463463374607431768211455';
    }
    plain.push(entry);
    written.push(`${key}|${payload}`);
  }
  for (let start = 0; start < plain.length; start += 500) {
    const result = await client.send(new PutRecordsCommand({ StreamName: stream, Records: plain.slice(start, start + 500) }));
    if (result.FailedRecordCount) {
      throw new Error(`PutRecords failed for ${result.FailedRecordCount} records`);
    }
  }

  for (let k = 0; k < Number(aggKeysText); k++) {
    const key = `agg-${k}`;
    const users = [];
    for (let j = 0; j < Number(perAggText); j++) {
      const payload = `agg#${k}#${String(j).padStart(3, '0')}`;
      users.push({ partitionKey: key, data: Buffer.from(payload) });
      written.push(`${key}|${payload}`);
    }
    for (const record of await aggregateOne(users)) {
      await client.send(new PutRecordCommand({
        StreamName: stream,
        PartitionKey: record.partitionKey,
        ExplicitHashKey: record.ExplicitHashKey,
        Data: record.data,
      }));
    }
  }

  console.log(`written ${JSON.stringify(written)}`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
