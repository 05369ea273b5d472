// Starts dynalite (an in-memory DynamoDB emulator) on 127.0.0.1:<port> and prints "dynalite listening on <port>" when it
// accepts connections. Used by DynaliteServer in the .NET test suite.
'use strict';
const dynalite = require('dynalite');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node dynamodb-emulator-dynalite.js <port>');
  process.exit(2);
}

const server = dynalite({ createTableMs: 50, deleteTableMs: 50, updateTableMs: 50 });
server.listen(port, '127.0.0.1', () => console.log(`dynalite listening on ${port}`));
server.on('error', (error) => {
  console.error(error);
  process.exit(1);
});
