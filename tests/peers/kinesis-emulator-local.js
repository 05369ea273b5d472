// Runs a patched copy of kinesis-local's main.js (bound to 127.0.0.1) from the folder given as the first argument.
// kinesis-local opens server.json relative to the working directory, so switch to that folder first.
// Used by KinesisLocalServer in the .NET test suite, which makes the copy; node_modules is never edited.
'use strict';
const path = require('path');

const folder = process.argv[2];
if (!folder) {
  console.error('usage: node kinesis-emulator-local.js <folder holding the patched main.js and server.json>');
  process.exit(2);
}

process.chdir(folder);
require(path.join(folder, 'main.js'));
