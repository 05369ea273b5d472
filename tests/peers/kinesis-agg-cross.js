// KPL aggregated-record cross-check with the reference npm package aws-kinesis-agg, driven by the .NET tests.
//   node kinesis-agg-cross.js aggregate   <in.json> <out.json>
//     in:  [{ "data": base64, "partitionKey": string, "explicitHashKey"?: string }, ...]  (one aggregate)
//     out: { "partitionKey": string, "explicitHashKey": string|null, "data": base64 }
//   node kinesis-agg-cross.js deaggregate <in.json> <out.json>
//     in:  [{ "data": base64, "partitionKey": string, "sequenceNumber": string }, ...]   (Kinesis records)
//     out: [{ "records": [{ partitionKey, explicitHashKey, subSequenceNumber, data }] } | { "error": string }, ...]
'use strict';
const fs = require('fs');
const agg = require('aws-kinesis-agg');

const [mode, inFile, outFile] = process.argv.slice(2);
const input = JSON.parse(fs.readFileSync(inFile, 'utf8'));

if (mode === 'aggregate') {
  const aggregator = new agg.RecordAggregator();
  for (const record of input) {
    const user = { data: Buffer.from(record.data, 'base64'), partitionKey: record.partitionKey };
    if (record.explicitHashKey) {
      user.explicitHashKey = record.explicitHashKey;
    }
    aggregator.addUserRecord(user);
  }
  const encoded = aggregator.build();
  fs.writeFileSync(outFile, JSON.stringify({
    partitionKey: encoded.partitionKey,
    explicitHashKey: encoded.ExplicitHashKey ?? null,
    data: Buffer.from(encoded.data).toString('base64'),
  }));
} else if (mode === 'deaggregate') {
  const results = input.map((record) => {
    let outcome;
    agg.deaggregateSync({ data: record.data, partitionKey: record.partitionKey, sequenceNumber: record.sequenceNumber }, true, (err, users) => {
      outcome = err
        ? { error: String(err.message || err) }
        : {
            records: users.map((u) => ({
              partitionKey: u.partitionKey,
              explicitHashKey: u.explicitPartitionKey ?? null,
              subSequenceNumber: u.subSequenceNumber ?? 0,
              data: u.data,
            })),
          };
    });
    return outcome;
  });
  fs.writeFileSync(outFile, JSON.stringify(results));
} else {
  console.error('usage: node kinesis-agg-cross.js aggregate|deaggregate <in.json> <out.json>');
  process.exit(2);
}
