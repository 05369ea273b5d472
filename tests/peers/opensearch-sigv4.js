// SigV4 cross-check for the OpenSearch sink: signs requests with the JavaScript SDK's signer (@smithy/signature-v4,
// the signer of the AWS SDK for JavaScript v3) and prints the headers it adds. Reads one JSON document on stdin:
// {"requests":[{"method","url","headers":{name:value},"body":base64,"service","region","date":ISO-8601,
//   "accessKeyId","secretAccessKey","sessionToken"?}]}; prints {"signed":[{header:value}, ...]} in the same order.
'use strict';
const crypto = require('crypto');
const { SignatureV4 } = require('@smithy/signature-v4');

// The hash the signer is given: node's SHA-256 (HMAC-SHA-256 when constructed with a secret).
class Sha256 {
  constructor(secret) {
    this.hash = secret ? crypto.createHmac('sha256', Buffer.from(secret)) : crypto.createHash('sha256');
  }
  update(data) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

async function sign(request) {
  const url = new URL(request.url);
  const query = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const headers = { host: url.host };
  for (const [name, value] of Object.entries(request.headers || {})) headers[name.toLowerCase()] = value;
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: request.accessKeyId,
      secretAccessKey: request.secretAccessKey,
      ...(request.sessionToken ? { sessionToken: request.sessionToken } : {}),
    },
    region: request.region,
    service: request.service,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers,
    body: request.body ? Buffer.from(request.body, 'base64') : undefined,
  }, { signingDate: new Date(request.date) });
  return signed.headers;
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const signed = [];
  for (const request of input.requests) signed.push(await sign(request));
  process.stdout.write(JSON.stringify({ signed }));
}

main().catch((error) => {
  console.error(error && error.stack || String(error));
  process.exit(1);
});
