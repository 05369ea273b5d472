// Type-checks JSON documents against the @types/aws-lambda definitions with TypeScript's checker.
// Usage: node lambda-types-check.js <TypeName>=<file.json>[:loose] ...
// Each document becomes `const x: TypeName = <json>;` (strict: excess properties are errors, string literal unions
// such as "Ok" | "Dropped" | "ProcessingFailed" are checked), or, with ":loose", is passed to a function whose type
// parameter is constrained by TypeName (extra documented properties allowed, everything declared still checked).
// Prints "types ok" and exits 0, or prints every diagnostic and exits 1.
'use strict';
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const specs = process.argv.slice(2).map((arg) => {
  const eq = arg.indexOf('=');
  if (eq <= 0) {
    console.error('usage: node lambda-types-check.js <TypeName>=<file.json>[:loose] ...');
    process.exit(2);
  }
  let file = arg.slice(eq + 1);
  let loose = false;
  if (file.endsWith(':loose')) {
    loose = true;
    file = file.slice(0, -':loose'.length);
  }
  return { type: arg.slice(0, eq), file, loose };
});

let source = "import type * as L from 'aws-lambda';\nfunction loose<T>() { return <U extends T>(value: U): U => value; }\n";
const starts = [];
specs.forEach((spec, i) => {
  const json = fs.readFileSync(spec.file, 'utf8');
  JSON.parse(json); // fail early on malformed JSON
  starts.push(source.length);
  source += spec.loose
    ? `export const doc${i} = loose<L.${spec.type}>()(${json});\n`
    : `export const doc${i}: L.${spec.type} = ${json};\n`;
});

const virtual = path.join(__dirname, '__lambda_types_check__.ts');
const options = { strict: true, noEmit: true, skipLibCheck: true, lib: ['lib.es2020.d.ts'], target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, types: [] };
const host = ts.createCompilerHost(options);
const getSourceFile = host.getSourceFile;
host.getSourceFile = (name, version, onError) => name === virtual ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, onError);
const fileExists = host.fileExists;
host.fileExists = (name) => name === virtual || fileExists(name);
const readFile = host.readFile;
host.readFile = (name) => name === virtual ? source : readFile(name);
const program = ts.createProgram([virtual], options, host);
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length === 0) {
  console.log('types ok');
  process.exit(0);
}
for (const d of diagnostics) {
  let where = d.file ? d.file.fileName : '';
  if (d.file && d.file.fileName === virtual && d.start !== undefined) {
    let doc = -1;
    starts.forEach((start, i) => { if (start <= d.start) doc = i; });
    where = doc >= 0 ? `${specs[doc].file} (${specs[doc].type})` : 'prelude';
  }
  console.log(`${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}
process.exit(1);
