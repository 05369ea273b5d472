// Starts kinesalite in memory on 127.0.0.1:<port> (its command line has no host option) and prints
// "kinesalite listening on <port>" when it accepts connections. Used by KinesaliteServer in the .NET test suite.
'use strict';
const kinesalite = require('kinesalite');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node kinesis-emulator-kinesalite.js <port>');
  process.exit(2);
}

const server = kinesalite({ createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50, shardLimit: 100 });
server.listen(port, '127.0.0.1', () => console.log(`kinesalite listening on ${port}`));
server.on('error', (error) => {
  console.error(error);
  process.exit(1);
});
