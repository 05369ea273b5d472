// A local SMTP server for the tests (smtp-server from the nodemailer project) on 127.0.0.1:<port>. It accepts any
// user and password (AUTH PLAIN/LOGIN over the plain connection; no STARTTLS), stores every message it accepts as
// raw bytes in <folder>/<n>.eml (written to a temporary name first, then renamed, so readers never see half a
// message), prints one JSON line per message ({"file","from","to","user","bytes"}), and prints
// "smtp-server listening on <port>" when it accepts connections. Used by SmtpServer in the .NET test suite.
'use strict';
const fs = require('fs');
const path = require('path');
const { SMTPServer } = require('smtp-server');

const port = Number(process.argv[2]);
const folder = process.argv[3];
if (!Number.isInteger(port) || port <= 0 || !folder) {
  console.error('usage: node smtp-server.js <port> <folder>');
  process.exit(2);
}

fs.mkdirSync(folder, { recursive: true });
let count = 0;

const server = new SMTPServer({
  secure: false,
  disabledCommands: ['STARTTLS'],
  authOptional: true,
  allowInsecureAuth: true,
  size: 10 * 1024 * 1024,
  logger: false,
  onAuth(auth, session, callback) {
    callback(null, { user: auth.username });
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('error', callback);
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        const error = new Error('Message too large');
        error.responseCode = 552;
        callback(error);
        return;
      }
      const raw = Buffer.concat(chunks);
      const name = `${String(++count).padStart(8, '0')}-${process.pid}.eml`;
      const file = path.join(folder, name);
      fs.writeFileSync(file + '.tmp', raw);
      fs.renameSync(file + '.tmp', file);
      console.log(JSON.stringify({
        file: name,
        from: session.envelope.mailFrom && session.envelope.mailFrom.address,
        to: session.envelope.rcptTo.map((r) => r.address),
        user: session.user || null,
        bytes: raw.length,
      }));
      callback(null, 'Stored');
    });
  },
});

server.on('error', (error) => {
  console.error(error);
});
server.listen(port, '127.0.0.1', () => console.log(`smtp-server listening on ${port}`));
