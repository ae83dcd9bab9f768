#!/usr/bin/env node
// Validate AsyncAPI documents with AsyncAPI's own parser (@asyncapi/parser).
//
//   node tools/asyncapi/validate.mjs <file.yaml|file.json> [...]
//
// Each file is parsed (and its $refs resolved, relative ones against the file's
// own location) by the parser's default ruleset. Every diagnostic is printed
// with its severity, rule, location and message. The exit code is 1 when any
// diagnostic has severity "error" (0 in Spectral's numbering) or a document
// cannot be parsed at all; warnings, infos and hints are printed but do not
// fail. --fail-on=warning (or info, hint) makes those fail too.
//
// One check is added on top of the parser: for AsyncAPI 3 the parser's ruleset
// does not check message examples against the message payload schema (its
// 2.x ruleset does), so each example payload is validated here with the same
// Ajv the parser uses, as rule "parcours-message-examples" (severity error).
// --no-examples turns that off.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

let Parser;
let DiagnosticSeverity;
try {
  ({ Parser, DiagnosticSeverity } = require('@asyncapi/parser'));
} catch (err) {
  if (err?.code !== 'MODULE_NOT_FOUND') throw err;
  console.error(`validate.mjs: @asyncapi/parser is not installed; run: npm ci --prefix ${path.relative(process.cwd(), here) || '.'}`);
  process.exit(2);
}

const SEVERITY_NAMES = ['error', 'warning', 'info', 'hint'];

function usage(code) {
  const out = code === 0 ? console.log : console.error;
  out('usage: node tools/asyncapi/validate.mjs [--fail-on=error|warning|info|hint] [--no-examples] <file.yaml|file.json> [...]');
  process.exit(code);
}

function formatPath(p) {
  if (!Array.isArray(p) || p.length === 0) return '$';
  return '$' + p.map((seg) => (/^[A-Za-z_][\w-]*$/.test(String(seg)) ? `.${seg}` : `[${JSON.stringify(String(seg))}]`)).join('');
}

function formatDiagnostic(file, d) {
  const severity = SEVERITY_NAMES[d.severity] ?? `severity-${d.severity}`;
  const start = d.range?.start;
  const where = start ? `${file}:${start.line + 1}:${start.character + 1}` : file;
  const code = d.code !== undefined ? ` [${d.code}]` : '';
  const source = d.source && path.resolve(d.source) !== path.resolve(file) ? ` (in ${d.source})` : '';
  return `${where}: ${severity}${code} ${formatPath(d.path)}: ${d.message}${source}`;
}

// Same engine and settings as the parser's own AsyncAPI / JSON Schema draft-07
// schema parser. Ajv's compile-time warnings (e.g. an unknown "format") are
// collected and reported as warnings instead of being logged to stderr.
let ajv;
const ajvWarnings = [];
function compileSchema(schema) {
  if (!ajv) {
    const Ajv = require('ajv').default;
    const addFormats = require('ajv-formats').default ?? require('ajv-formats');
    const collect = (...args) => ajvWarnings.push(args.join(' '));
    ajv = new Ajv({
      allErrors: true, strict: false, allowUnionTypes: true, unicodeRegExp: false, validateSchema: false,
      logger: { log() {}, warn: collect, error: collect },
    });
    addFormats(ajv);
  }
  ajvWarnings.length = 0;
  const validate = ajv.compile(schema);
  return { validate, warnings: [...new Set(ajvWarnings)] };
}

function pointerToPath(pointer) {
  if (!pointer) return [];
  return pointer.split('/').slice(1).map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'));
}

// Messages, those declared under components first so that paths point at
// where a message is written rather than at a $ref to it.
function messagesOf(document) {
  const seen = new Set();
  const out = [];
  for (const m of [...document.components().messages().all(), ...document.messages().all()]) {
    if (seen.has(m.json())) continue;
    seen.add(m.json());
    out.push(m);
  }
  return out;
}

// Check message examples against payload schemas (not done by the parser for 3.x).
function checkExamples(document) {
  const diagnostics = [];
  if (!String(document.version()).startsWith('3.')) return diagnostics;
  const report = (severity, p, message) => diagnostics.push({ code: 'parcours-message-examples', severity, path: p, message });
  for (const message of messagesOf(document)) {
    if (!message.hasPayload()) continue;
    const format = message.schemaFormat() ?? '';
    // Only the formats the parser itself reads as JSON Schema draft-07 / AsyncAPI Schema.
    if (!/^application\/(schema(\+json|\+yaml)?;version=draft-07|vnd\.aai\.asyncapi(\+json|\+yaml)?;version=[\d.]+)$/.test(format)) continue;
    const examples = message.examples().all();
    if (examples.length === 0) continue;
    const payloadPath = [...pointerToPath(message.meta('pointer')), 'payload'];
    // A multi-format schema object ({schemaFormat, schema}) holds the schema under `schema`.
    let schema = message.payload().json();
    if (schema && typeof schema === 'object' && typeof schema.schema === 'object' && 'schemaFormat' in schema) schema = schema.schema;
    if (schema && typeof schema === 'object' && '$schema' in schema) {
      if (!/^https?:\/\/json-schema\.org\/draft-07\/schema#?$/.test(String(schema.$schema))) {
        report(DiagnosticSeverity.Warning, payloadPath, `payload $schema "${schema.$schema}" ignored: the examples are checked as JSON Schema draft-07, as the parser reads payloads`);
      }
      const { $schema, ...rest } = schema; // eslint-disable-line no-unused-vars
      schema = rest;
    }
    let validate;
    try {
      const compiled = compileSchema(schema);
      validate = compiled.validate;
      for (const w of compiled.warnings) report(DiagnosticSeverity.Warning, payloadPath, `payload schema: ${w}`);
    } catch (err) {
      report(DiagnosticSeverity.Error, payloadPath, `payload schema cannot be compiled to check the examples: ${err.message}`);
      continue;
    }
    examples.forEach((example, i) => {
      if (!example.hasPayload()) return;
      if (validate(example.payload())) return;
      const examplePath = [...pointerToPath(example.meta('pointer')), 'payload'];
      for (const e of validate.errors ?? []) {
        const params = e.params?.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : '';
        report(DiagnosticSeverity.Error, [...examplePath, ...pointerToPath(e.instancePath)],
          `example ${example.name() ? `"${example.name()}"` : `#${i}`} does not match the payload schema: ${e.message}${params}`);
      }
    });
  }
  return diagnostics;
}

async function validateFile(parser, file, options) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    console.error(`${file}: error cannot read file: ${err.message}`);
    return false;
  }
  const { document, diagnostics, extras } = await parser.parse(text, { source: path.resolve(file) });
  const all = [...diagnostics];
  if (document && options.examples) {
    for (const d of checkExamples(document)) {
      const range = extras?.document?.getRangeForJsonPath?.(d.path, true);
      all.push(range ? { ...d, range } : d);
    }
  }
  all.sort((a, b) => a.severity - b.severity || (a.range?.start.line ?? 0) - (b.range?.start.line ?? 0));
  for (const d of all) console.log(formatDiagnostic(file, d));
  const failing = all.filter((d) => d.severity <= options.failOn);
  if (!document) {
    console.log(`${file}: INVALID: the document could not be parsed (${all.filter((d) => d.severity === 0).length} errors)`);
    return false;
  }
  if (failing.length > 0) {
    console.log(`${file}: INVALID: ${failing.length} diagnostic(s) at severity ${SEVERITY_NAMES[options.failOn]} or worse`);
    return false;
  }
  const channels = document.channels().length;
  const operations = document.operations().length;
  const messages = document.allMessages().length;
  const notes = all.length ? `, ${all.length} non-failing diagnostic(s)` : '';
  console.log(`${file}: valid AsyncAPI ${document.version()} (${channels} channels, ${operations} operations, ${messages} messages${notes})`);
  return true;
}

async function main(argv) {
  const options = { failOn: DiagnosticSeverity.Error, examples: true };
  const files = [];
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') usage(0);
    else if (arg === '--no-examples') options.examples = false;
    else if (arg.startsWith('--fail-on=')) {
      const idx = SEVERITY_NAMES.indexOf(arg.slice('--fail-on='.length));
      if (idx < 0) usage(2);
      options.failOn = idx;
    } else if (arg.startsWith('--')) usage(2);
    else files.push(arg);
  }
  if (files.length === 0) usage(2);
  const parser = new Parser();
  let ok = true;
  for (const file of files) {
    // eslint-disable-next-line no-await-in-loop
    if (!(await validateFile(parser, file, options))) ok = false;
  }
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`validate.mjs: unexpected failure: ${err?.stack ?? err}`); process.exitCode = 1; },
);
