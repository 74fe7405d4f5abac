// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Generates packages/core/src/wire/gen/dataplane.ts from packages/core/proto/dataplane/v1/dataplane.proto.
//
//   node scripts/gen-proto.mjs          write the TypeScript (only when it changed)
//   node scripts/gen-proto.mjs --check  exit 1 when the committed output is stale
//
// Understands the proto3 subset the data-plane schema needs: package, service/rpc, top-level message
// and enum, optional, repeated (messages, string, bytes), map<string, string>, oneof, the scalars
// uint32/uint64/bool/string/bytes, and // or /* */ comments (the comment lines right above a
// declaration become its JSDoc). Anything else is rejected with file:line. No dependencies; the
// output is a pure function of the input, so running the script twice gives identical bytes.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const INPUT = fileURLToPath(new URL("../packages/core/proto/dataplane/v1/dataplane.proto", import.meta.url));
const OUTPUT = fileURLToPath(new URL("../packages/core/src/wire/gen/dataplane.ts", import.meta.url));

const SCALARS = new Set(["uint32", "uint64", "bool", "string", "bytes"]);
const WIRE_TYPE = { uint32: 0, uint64: 0, bool: 0, enum: 0, string: 2, bytes: 2, message: 2 };
const TS_SCALAR = { uint32: "number", uint64: "bigint", bool: "boolean", string: "string", bytes: "Uint8Array" };
const DEFAULT = { uint32: "0", enum: "0", uint64: "0n", bool: "false", string: '""', bytes: "EMPTY_BYTES" };

// ---------------------------------------------------------------------------------------------
// Tokenizer: identifiers, integers, strings, punctuation; comments are attached to the next token.

function tokenize(src, file) {
  const tokens = [];
  let comments = [];
  let line = 1;
  for (let i = 0; i < src.length; ) {
    const c = src[i];
    const rest = src.slice(i, i + 256);
    let m;
    if (c === "\n") { line++; i++; }
    else if (c === " " || c === "\t" || c === "\r") i++;
    else if (rest.startsWith("//")) {
      const e = src.indexOf("\n", i) < 0 ? src.length : src.indexOf("\n", i);
      comments.push({ text: src.slice(i + 2, e).replace(/^ /, "").trimEnd(), line });
      i = e;
    } else if (rest.startsWith("/*")) {
      const e = src.indexOf("*/", i + 2);
      if (e < 0) throw new Error(`${file}:${line}: unterminated comment`);
      for (const part of src.slice(i + 2, e).split("\n")) comments.push({ text: part.replace(/^\s*\*? ?/, "").trimEnd(), line: line++ });
      line--;
      i = e + 2;
    } else if ((m = /^(?:[A-Za-z_][A-Za-z0-9_.]*|-?[0-9]+|"[^"\n]*"|[{}()<>=;,[\]])/.exec(rest))) {
      tokens.push({ text: m[0], line, doc: leadingDoc(comments, line) });
      comments = [];
      i += m[0].length;
    } else throw new Error(`${file}:${line}: unexpected character ${JSON.stringify(c)}`);
  }
  return tokens;
}

// The comment lines that end right above `line`, without divider lines such as "// -----".
function leadingDoc(comments, line) {
  const out = [];
  for (let k = comments.length - 1, want = line - 1; k >= 0 && comments[k].line === want; k--, want--) out.unshift(comments[k].text);
  return out.filter((t) => t === "" || !/^[-=*\s]+$/.test(t));
}

// ---------------------------------------------------------------------------------------------
// Parser

function parse(src, file) {
  const toks = tokenize(src, file);
  let p = 0;
  const fail = (msg, t = toks[p]) => { throw new Error(`${file}:${t ? t.line : "EOF"}: ${msg}`); };
  const peek = () => toks[p]?.text;
  const next = () => toks[p++] ?? fail("unexpected end of file");
  const expect = (text) => { const t = next(); if (t.text !== text) fail(`expected "${text}", got "${t.text}"`, t); return t; };
  const ident = () => { const t = next(); if (!/^[A-Za-z_]/.test(t.text)) fail(`expected a name, got "${t.text}"`, t); return t.text; };
  const int = () => { const t = next(); if (!/^-?[0-9]+$/.test(t.text)) fail(`expected a number, got "${t.text}"`, t); return Number(t.text); };
  const skipStatement = () => { while (next().text !== ";"); };
  const skipOptions = () => { if (peek() === "[") while (next().text !== "]"); };
  // Runs `each(token)` for every statement of a { ... } block, skipping empty/option/reserved ones.
  const block = (each) => {
    expect("{");
    while (peek() !== "}") {
      const t = next();
      if (t.text === "option" || t.text === "reserved") skipStatement();
      else if (t.text !== ";") each(t);
    }
    expect("}");
  };

  const ast = { pkg: "", messages: [], enums: [], services: [] };
  while (p < toks.length) {
    const t = next();
    if (t.text === "syntax") {
      expect("=");
      if (next().text !== '"proto3"') fail("only proto3 is supported", t);
      expect(";");
    } else if (t.text === "package") { ast.pkg = ident(); expect(";"); }
    else if (t.text === "option") skipStatement();
    else if (t.text === "message") ast.messages.push(parseMessage(t));
    else if (t.text === "enum") ast.enums.push(parseEnum(t));
    else if (t.text === "service") ast.services.push(parseService(t));
    else if (t.text !== ";") fail(`unsupported statement "${t.text}"`, t);
  }
  return ast;

  function parseField(t, oneof) {
    const f = { doc: t.doc, line: t.line, label: undefined, type: "", oneof };
    if (t.text === "optional" || t.text === "repeated") {
      if (oneof) fail(`"${t.text}" is not allowed in a oneof`, t);
      f.label = t.text;
      t = next();
    }
    if (t.text === "map") {
      if (oneof || f.label) fail("a map cannot be optional, repeated or in a oneof", t);
      expect("<");
      const key = ident();
      expect(",");
      const value = ident();
      expect(">");
      if (key !== "string" || value !== "string") fail(`only map<string, string> is supported, not map<${key}, ${value}>`, t);
      f.label = "map";
      f.type = "string";
    } else {
      if (!/^[A-Za-z_.]/.test(t.text)) fail(`expected a type, got "${t.text}"`, t);
      f.type = t.text;
    }
    f.name = ident();
    expect("=");
    f.number = int();
    skipOptions();
    expect(";");
    return f;
  }

  function parseMessage(kw) {
    const msg = { doc: kw.doc, line: kw.line, name: ident(), members: [] };
    block((t) => {
      if (["message", "enum", "extend", "extensions", "group"].includes(t.text)) fail(`"${t.text}" inside a message is not supported`, t);
      if (t.text !== "oneof") { msg.members.push(parseField(t, undefined)); return; }
      const oneof = { kind: "oneof", doc: t.doc, line: t.line, name: ident(), fields: [] };
      block((f) => oneof.fields.push(parseField(f, oneof)));
      if (oneof.fields.length === 0) fail(`oneof ${oneof.name} is empty`, t);
      msg.members.push(oneof);
    });
    return msg;
  }

  function parseEnum(kw) {
    const en = { doc: kw.doc, name: ident(), values: [] };
    block((t) => {
      expect("=");
      en.values.push({ doc: t.doc, name: t.text, number: int() });
      skipOptions();
      expect(";");
    });
    if (en.values[0]?.number !== 0) fail(`enum ${en.name}: the first value must be 0 in proto3`, kw);
    return en;
  }

  function parseService(kw) {
    const svc = { doc: kw.doc, name: ident(), methods: [] };
    block((t) => {
      if (t.text !== "rpc") fail(`unexpected "${t.text}" in a service`, t);
      const m = { doc: t.doc, name: ident() };
      expect("(");
      m.clientStreaming = peek() === "stream" && Boolean(next());
      m.input = ident();
      expect(")");
      expect("returns");
      expect("(");
      m.serverStreaming = peek() === "stream" && Boolean(next());
      m.output = ident();
      expect(")");
      if (peek() === "{") while (next().text !== "}");
      else expect(";");
      svc.methods.push(m);
    });
    return svc;
  }
}

// ---------------------------------------------------------------------------------------------
// Resolution and checks

const camel = (s) => s.replace(/_+([A-Za-z0-9])/g, (_, c) => c.toUpperCase());
const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);
const upperSnake = (s) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2").toUpperCase();
const minNumber = (mem) => (mem.kind === "oneof" ? Math.min(...mem.fields.map((f) => f.number)) : mem.number);

function resolve(ast, file) {
  const messages = new Set(ast.messages.map((m) => m.name));
  const enums = new Set(ast.enums.map((e) => e.name));
  if (messages.size + enums.size !== ast.messages.length + ast.enums.length || [...enums].some((e) => messages.has(e))) {
    throw new Error(`${file}: duplicate type name`);
  }
  const local = (t) => (t.replace(/^\./, "").startsWith(`${ast.pkg}.`) ? t.replace(/^\./, "").slice(ast.pkg.length + 1) : t);
  for (const msg of ast.messages) {
    const numbers = new Set();
    const names = new Set();
    const claim = (name, where) => {
      if (names.has(name)) throw new Error(`${where}: duplicate name ${name}`);
      names.add(name);
    };
    msg.fields = [];
    for (const mem of msg.members) {
      if (mem.kind === "oneof") claim((mem.tsName = camel(mem.name)), `${file}:${mem.line}: ${msg.name}`);
      for (const f of mem.kind === "oneof" ? mem.fields : [mem]) {
        const where = `${file}:${f.line}: ${msg.name}.${f.name}`;
        f.tsName = camel(f.name);
        if (!f.oneof) claim(f.tsName, where);
        if (numbers.has(f.number)) throw new Error(`${where}: duplicate field number ${f.number}`);
        if (f.number < 1 || f.number > 536870911 || (f.number >= 19000 && f.number <= 19999)) throw new Error(`${where}: invalid field number`);
        numbers.add(f.number);
        const type = local(f.type);
        if (SCALARS.has(type)) f.kind = type;
        else if (messages.has(type)) Object.assign(f, { kind: "message", ref: type });
        else if (enums.has(type)) Object.assign(f, { kind: "enum", ref: type });
        else throw new Error(`${where}: type ${f.type} is unknown or not supported by this generator`);
        if (f.label === "repeated" && !["message", "string", "bytes"].includes(f.kind)) {
          throw new Error(`${where}: repeated ${f.kind} (packed) is not supported by this generator`);
        }
        f.tag = f.number * 8 + (f.label === "map" ? 2 : WIRE_TYPE[f.kind]);
        f.present = f.label === "optional" || (f.kind === "message" && !f.label && !f.oneof); // `field?: T`
        f.implicit = !f.label && !f.oneof && f.kind !== "message"; // left out when default
        msg.fields.push(f);
      }
    }
    msg.fields.sort((a, b) => a.number - b.number);
    // prost writes fields by ascending number, and a oneof at the position of its lowest number.
    msg.encodeOrder = [...msg.members].sort((a, b) => minNumber(a) - minNumber(b));
  }
  for (const svc of ast.services) {
    for (const m of svc.methods) {
      if (!messages.has(local(m.input)) || !messages.has(local(m.output))) throw new Error(`${file}: rpc ${svc.name}.${m.name}: unknown message`);
    }
  }
  for (const en of ast.enums) {
    const prefix = `${upperSnake(en.name)}_`;
    const strip = en.values.every((v) => v.name.startsWith(prefix) && /^[A-Za-z_]/.test(v.name.slice(prefix.length)));
    for (const v of en.values) v.tsName = strip ? v.name.slice(prefix.length) : v.name;
    if (new Set(en.values.map((v) => v.tsName)).size !== en.values.length) throw new Error(`${file}: enum ${en.name}: duplicate value`);
  }
}

// ---------------------------------------------------------------------------------------------
// Emitter

const T = (name) => `Proto${name}`;

function jsdoc(lines, indent) {
  const clean = lines.map((l) => l.replace(/\*\//g, "*\\/"));
  while (clean.length && clean[clean.length - 1] === "") clean.pop();
  if (clean.length === 0) return [];
  if (clean.length === 1) return [`${indent}/** ${clean[0]} */`];
  return [`${indent}/**`, ...clean.map((l) => `${indent} *${l ? ` ${l}` : ""}`), `${indent} */`];
}

function tsType(f) {
  if (f.label === "map") return "Map<string, string>";
  const base = TS_SCALAR[f.kind] ?? (f.kind === "enum" ? f.ref : T(f.ref));
  return f.label === "repeated" ? `${base}[]` : base;
}

// Statements writing value `v` of field f (key first).
function writeField(f, v) {
  if (f.kind === "message") return [`w.tag(${f.tag});`, "const s = w.begin();", `write${f.ref}(w, ${v});`, "w.end(s);"];
  return [`w.tag(${f.tag});`, `w.${f.kind === "enum" ? "int32" : f.kind}(${v});`];
}

function emitInterface(msg) {
  const out = [...jsdoc(msg.doc, ""), `export interface ${T(msg.name)} {${msg.members.length ? "" : "}"}`];
  for (const mem of msg.members) {
    out.push(...jsdoc(mem.doc, "  "));
    if (mem.kind === "oneof") {
      out.push(`  ${mem.tsName}:`, ...mem.fields.map((f) => `    | { case: "${f.tsName}"; value: ${tsType(f)} }`));
      out.push("    | { case: undefined; value?: undefined };");
    } else out.push(`  ${mem.tsName}${mem.present ? "?" : ""}: ${tsType(mem)};`);
  }
  if (msg.members.length) out.push("}");
  const defaults = msg.members.filter((m) => !m.present).map((m) =>
    m.kind === "oneof" ? `${m.tsName}: { case: undefined }`
      : `${m.tsName}: ${m.label === "repeated" ? "[]" : m.label === "map" ? "new Map()" : DEFAULT[m.kind]}`);
  const n = msg.name;
  out.push("", `function new${n}(): ${T(n)} {`, `  return {${defaults.length ? ` ${defaults.join(", ")} ` : ""}};`, "}");
  out.push("", `/** A ${n} with every field at its default, then \`init\` applied (shallow). */`);
  out.push(`export function create${T(n)}(init?: Partial<${T(n)}>): ${T(n)} {`);
  out.push(`  return init === undefined ? new${n}() : { ...new${n}(), ...init };`, "}");
  return out;
}

function emitWriter(msg) {
  const n = msg.name;
  if (msg.members.length === 0) return [`function write${n}(_w: Writer, _m: ${T(n)}): void {}`];
  const out = [`function write${n}(w: Writer, m: ${T(n)}): void {`];
  const indent = (lines, by) => lines.map((l) => `${by}${l}`);
  for (const mem of msg.encodeOrder) {
    const v = `m.${mem.tsName}`;
    if (mem.kind === "oneof") {
      out.push(`  const ${mem.tsName} = ${v};`, `  switch (${mem.tsName}.case) {`);
      for (const f of mem.fields) {
        out.push(`    case "${f.tsName}": {`, ...indent(writeField(f, `${mem.tsName}.value`), "      "), "      break;", "    }");
      }
      out.push("  }");
    } else if (mem.label === "map") {
      out.push(`  for (const [k, v] of ${v}) writeStringMapEntry(w, ${mem.tag}, k, v);`);
    } else if (mem.label === "repeated") {
      out.push(`  for (const v of ${v}) {`, ...indent(writeField(mem, "v"), "    "), "  }");
    } else {
      const cond = !mem.implicit ? `${v} !== undefined`
        : { uint32: `${v} !== 0`, enum: `${v} !== 0`, uint64: `${v} !== 0n`, bool: v, string: `${v} !== ""`, bytes: `${v}.length !== 0` }[mem.kind];
      out.push(`  if (${cond}) {`, ...indent(writeField(mem, v), "    "), "  }");
    }
  }
  out.push("}");
  return out;
}

function emitReader(msg) {
  const n = msg.name;
  const out = [`function read${n}(r: Reader, m: ${T(n)}): ${T(n)} {`];
  if (msg.fields.length === 0) {
    out.push("  while (r.pos < r.end) r.unknown(r.tag(), []);", "  return m;", "}");
    return out;
  }
  out.push("  while (r.pos < r.end) {", "    const t = r.tag();", "    switch (t) {");
  for (const f of msg.fields) {
    const read = f.kind === "enum" ? `r.int32() as ${f.ref}` : `r.${f.kind}()`;
    const target = `m.${f.tsName}`;
    if (f.label === "map") {
      out.push(`      case ${f.tag}:`, `        readStringMapEntry(r, ${target});`);
    } else if (f.kind !== "message") {
      const assign = f.oneof ? `m.${f.oneof.tsName} = { case: "${f.tsName}", value: ${read} };`
        : f.label === "repeated" ? `${target}.push(${read});` : `${target} = ${read};`;
      out.push(`      case ${f.tag}:`, `        ${assign}`);
    } else {
      out.push(`      case ${f.tag}: {`, "        const e = r.enter();");
      if (f.oneof) {
        const o = f.oneof.tsName;
        out.push(`        const cur = m.${o};`);
        out.push(`        m.${o} = { case: "${f.tsName}", value: read${f.ref}(r, cur.case === "${f.tsName}" ? cur.value : new${f.ref}()) };`);
      } else if (f.label === "repeated") {
        out.push(`        ${target}.push(read${f.ref}(r, new${f.ref}()));`);
      } else {
        out.push(`        ${target} = read${f.ref}(r, ${target} ?? new${f.ref}());`);
      }
      out.push("        r.end = e;", "        break;", "      }");
      continue;
    }
    out.push("        break;");
  }
  out.push("      default:", `        r.unknown(t, [${msg.fields.map((f) => f.number).join(", ")}]);`, "    }", "  }", "  return m;", "}");
  return out;
}

function emit(ast, source, sourcePath) {
  const fields = ast.messages.flatMap((m) => m.fields);
  const imports = ["decodeWith", "encodeWith", "type Reader", "type Writer"];
  if (fields.some((f) => f.kind === "bytes" && f.implicit)) imports.push("EMPTY_BYTES");
  if (fields.some((f) => f.label === "map")) imports.push("readStringMapEntry", "writeStringMapEntry");
  imports.sort((a, b) => a.replace("type ", "").localeCompare(b.replace("type ", "")));
  const out = [
    "// SPDX-License-Identifier: Apache-2.0",
    "// Copyright the slim-ts authors",
    "//",
    `// GENERATED FILE - DO NOT EDIT. Produced by scripts/gen-proto.mjs from ${sourcePath}`,
    `// (sha256 ${createHash("sha256").update(source).digest("hex")}). Regenerate with \`npm run gen:proto\`.`,
    "//",
    "// Encoding is byte-identical to prost (the official Rust encoder): ascending field numbers (a oneof at",
    "// the position of its lowest number), implicit-presence fields left out when they hold their default,",
    "// `optional` fields and present messages always written, map entries without an empty key or value.",
    "// Decoding is bounded (maxBytes, default 4 MiB) and throws only SlimError (PROTOCOL, MESSAGE_TOO_LARGE);",
    "// bytes fields of decoded messages are views into the input; encoded messages may be views into a shared",
    "// 16 KiB slab (see proto-runtime.ts).",
    "",
    `import { ${imports.join(", ")} } from "../proto-runtime.js";`,
  ];
  for (const svc of ast.services) {
    out.push("", ...jsdoc(svc.doc, ""), `export const ${svc.name}Definition = {`, `  typeName: "${ast.pkg}.${svc.name}",`, "  methods: {");
    for (const m of svc.methods) {
      out.push(...jsdoc(m.doc, "    "), `    ${lowerFirst(m.name)}: {`, `      name: "${m.name}",`, `      path: "/${ast.pkg}.${svc.name}/${m.name}",`);
      out.push(`      clientStreaming: ${m.clientStreaming},`, `      serverStreaming: ${m.serverStreaming},`, "    },");
    }
    out.push("  },", "} as const;");
  }
  for (const en of ast.enums) {
    out.push("", ...jsdoc(en.doc, ""), `export const ${en.name} = {`);
    for (const v of en.values) out.push(...jsdoc(v.doc, "  "), `  ${v.tsName}: ${v.number},`);
    out.push("} as const;", `export type ${en.name} = (typeof ${en.name})[keyof typeof ${en.name}];`);
  }
  for (const msg of ast.messages) {
    const n = msg.name;
    out.push("", `// ${"-".repeat(96)}`, `// ${n}`, "", ...emitInterface(msg), "", ...emitWriter(msg), "", ...emitReader(msg));
    out.push("", `/** Encodes a ${n} exactly as prost does; \`room\` free bytes are kept before it (see encodeWith). */`, `export function encode${T(n)}(m: ${T(n)}, room = 0): Uint8Array {`);
    out.push(`  return encodeWith(m, write${n}, room);`, "}", "");
    out.push(`/** Decodes a ${n}; throws SlimError "PROTOCOL" when malformed, "MESSAGE_TOO_LARGE" above maxBytes. */`);
    out.push(`export function decode${T(n)}(bytes: Uint8Array, maxBytes?: number): ${T(n)} {`);
    out.push(`  return decodeWith(bytes, maxBytes, read${n}, new${n});`, "}");
  }
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------

function main() {
  const source = readFileSync(INPUT, "utf8");
  const rel = (p) => relative(ROOT, p).split("\\").join("/");
  const ast = parse(source, rel(INPUT));
  resolve(ast, rel(INPUT));
  const ts = emit(ast, source, rel(INPUT));
  let current;
  try {
    current = readFileSync(OUTPUT, "utf8");
  } catch {
    current = undefined;
  }
  if (process.argv.includes("--check")) {
    if (current !== ts) {
      console.error(`${rel(OUTPUT)} is stale: run npm run gen:proto`);
      process.exit(1);
    }
    console.log(`${rel(OUTPUT)} is up to date`);
  } else if (current === ts) {
    console.log(`${rel(OUTPUT)} unchanged`);
  } else {
    mkdirSync(dirname(OUTPUT), { recursive: true });
    writeFileSync(OUTPUT, ts);
    console.log(`wrote ${rel(OUTPUT)} (${ast.messages.length} messages, ${ast.enums.length} enums)`);
  }
}

try {
  main();
} catch (err) {
  console.error(`gen-proto: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
