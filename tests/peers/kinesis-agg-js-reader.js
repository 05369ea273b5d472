// Reads every record of a stream with the AWS JavaScript SDK (@aws-sdk/client-kinesis) and deaggregates KPL
// aggregates with aws-kinesis-agg: the independent consumer for "records we write are read by the JS SDK".
//   node kinesis-agg-js-reader.js <endpoint> <streamName> <out.json>
//   out: [{ shardId, sequenceNumber, subSequenceNumber, partitionKey, explicitHashKey, data(base64) }, ...]
'use strict';
const fs = require('fs');
const { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const agg = require('aws-kinesis-agg');

async function main() {
  const [endpoint, streamName, outFile] = process.argv.slice(2);
  const client = new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
  });
  const shards = [];
  let token;
  do {
    const page = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName }));
    shards.push(...page.Shards);
    token = page.NextToken;
  } while (token);

  const out = [];
  for (const shard of shards) {
    let iterator = (await client.send(new GetShardIteratorCommand({
      StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON',
    }))).ShardIterator;
    let emptyInARow = 0;
    while (iterator && emptyInARow < 2) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }));
      emptyInARow = page.Records.length === 0 ? emptyInARow + 1 : 0;
      for (const record of page.Records) {
        const v2 = {
          data: Buffer.from(record.Data).toString('base64'),
          partitionKey: record.PartitionKey,
          sequenceNumber: record.SequenceNumber,
        };
        agg.deaggregateSync(v2, true, (err, users) => {
          if (err) {
            throw err;
          }
          for (const u of users) {
            out.push({
              shardId: shard.ShardId,
              sequenceNumber: record.SequenceNumber,
              subSequenceNumber: u.subSequenceNumber ?? 0,
              partitionKey: u.partitionKey,
              explicitHashKey: u.explicitPartitionKey ?? null,
              data: u.data,
            });
          }
        });
      }
      iterator = page.NextShardIterator;
    }
  }
  fs.writeFileSync(outFile, JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
