// Partial batch response of @aws-lambda-powertools/batch for a Kinesis event, as a cross-check.
// Reads {"event": <KinesisStreamEvent>, "failing": ["<sequenceNumber>", ...]} on stdin; the record handler throws for
// the listed sequence numbers. Prints the response JSON ({"batchItemFailures": [...]}) on one line; when every record
// failed, Powertools throws FullBatchFailureError, printed as {"fullBatchFailure": true}.
'use strict';
const { BatchProcessorSync, EventType, processPartialResponseSync } = require('@aws-lambda-powertools/batch');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { event, failing } = JSON.parse(input);
  const failingSet = new Set(failing);
  const processor = new BatchProcessorSync(EventType.KinesisDataStreams);
  const handler = (record) => {
    Buffer.from(record.kinesis.data, 'base64');
    if (failingSet.has(record.kinesis.sequenceNumber)) {
      throw new Error(`record ${record.kinesis.sequenceNumber} fails`);
    }
  };
  const context = { getRemainingTimeInMillis: () => 60000 };
  try {
    const response = processPartialResponseSync(event, handler, processor, { context });
    console.log(JSON.stringify(response));
  } catch (error) {
    if (error && error.name === 'FullBatchFailureError') {
      console.log(JSON.stringify({ fullBatchFailure: true }));
    } else {
      throw error;
    }
  }
});
