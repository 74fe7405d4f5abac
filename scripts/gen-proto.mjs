// SPDX-License-Identifier: Apache-2.0
// Copyright the slim-ts authors

// Generates packages/core/src/wire/gen/dataplane.ts from packages/core/proto/dataplane/v1/dataplane.proto.
//
//   node scripts/gen-proto.mjs          write the TypeScript (only if it changed)
//   node scripts/gen-proto.mjs --check  exit 1 if the committed output is stale
//
// Understands the proto3 subset the data-plane schema needs: package, service/rpc, message, enum,
// optional, repeated (messages, string, bytes), map<string, string>, oneof (no nesting), the scalars
// uint32/uint64/bool/string/bytes, enums, messages, and // or /* */ comments (a comment block right
// above a declaration becomes its JSDoc). Anything else is rejected with file:line.
// The output is a pure function of the input: running the script twice gives identical bytes.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const INPUT = fileURLToPath(new URL("../packages/core/proto/dataplane/v1/dataplane.proto", import.meta.url));
const OUTPUT = fileURLToPath(new URL("../packages/core/src/wire/gen/dataplane.ts", import.meta.url));

const SCALARS = new Set(["uint32", "uint64", "bool", "string", "bytes"]);
const UNSUPPORTED_SCALARS = new Set(["int32", "int64", "sint32", "sint64", "fixed32", "fixed64",
  "sfixed32", "sfixed64", "float", "double"]);
const WIRE = { uint32: 0, uint64: 0, bool: 0, enum: 0, string: 2, bytes: 2, message: 2 };

// ---------------------------------------------------------------------------------------------
// Tokenizer

function tokenize(src, file) {
  const tokens = [];
  let comments = [];
  let i = 0;
  let line = 1;
  const fail = (msg) => { throw new Error(`${file}:${line}: ${msg}`); };
  while (i < src.length) {
    const c = src[i];
    if (c === "\n") { line++; i++; continue; }
    if (c === " " || c === "\t" || c === "\r") { i++; continue; }
    if (src.startsWith("//", i)) {
      let e = src.indexOf("\n", i);
      if (e < 0) e = src.length;
      comments.push({ text: src.slice(i + 2, e).replace(/^ /, ""), line });
      i = e;
      continue;
    }
    if (src.startsWith("/*", i)) {
      const e = src.indexOf("*/", i + 2);
      if (e < 0) fail("unterminated comment");
      for (const part of src.slice(i + 2, e).split("\n")) {
        comments.push({ text: part.replace(/^\s*\*? ?/, "").trimEnd(), line });
        line++;
      }
      line--;
      i = e + 2;
      continue;
    }
    let m;
    const rest = src.slice(i, i + 200);
    if ((m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest)) || (m = /^-?[0-9]+/.exec(rest)) || (m = /^"[^"\n]*"/.exec(rest))) {
      tokens.push({ text: m[0], line, doc: docFor(comments, line) });
      comments = [];
      i += m[0].length;
      continue;
    }
    if ("{}()<>=;,[]".includes(c)) {
      tokens.push({ text: c, line, doc: [] });
      comments = [];
      i++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`);
  }
  return tokens;
}

// The contiguous comment lines ending on the line just above the token, without divider lines.
function docFor(comments, line) {
  const out = [];
  let expect = line - 1;
  for (let k = comments.length - 1; k >= 0 && comments[k].line === expect; k--, expect--) out.unshift(comments[k].text);
  return out.filter((t) => !/^[-=*\s]*$/.test(t) || t === "");
}

// ---------------------------------------------------------------------------------------------
// Parser

function parse(src, file) {
  const toks = tokenize(src, file);
  let p = 0;
  const peek = () => toks[p]?.text;
  const fail = (msg, t = toks[p]) => { throw new Error(`${file}:${t ? t.line : "EOF"}: ${msg}`); };
  const next = () => toks[p++] ?? fail("unexpected end of file");
  const expect = (text) => { const t = next(); if (t.text !== text) fail(`expected "${text}", got "${t.text}"`, t); return t; };
  const ident = () => { const t = next(); if (!/^[A-Za-z_]/.test(t.text)) fail(`expected a name, got "${t.text}"`, t); return t; };
  const number = () => { const t = next(); if (!/^-?[0-9]+$/.test(t.text)) fail(`expected a number, got "${t.text}"`, t); return Number(t.text); };
  const skipStatement = () => { while (next().text !== ";"); };
  const skipOptions = () => {
    if (peek() !== "[") return;
    while (next().text !== "]");
  };

  const ast = { pkg: "", messages: [], enums: [], services: [] };
  while (p < toks.length) {
    const t = next();
    switch (t.text) {
      case "syntax": {
        expect("=");
        const v = next().text;
        if (v !== '"proto3"') fail(`only proto3 is supported, got ${v}`, t);
        expect(";");
        break;
      }
      case "package": ast.pkg = ident().text; expect(";"); break;
      case "option": skipStatement(); break;
      case "message": ast.messages.push(parseMessage(t)); break;
      case "enum": ast.enums.push(parseEnum(t)); break;
      case "service": ast.services.push(parseService(t)); break;
      case ";": break;
      default: fail(`unsupported top-level statement "${t.text}"`, t);
    }
  }
  return ast;

  function parseField(first, oneof) {
    const field = { doc: first.doc, line: first.line, label: undefined, type: "", name: "", number: 0, oneof };
    let t = first;
    if (t.text === "optional" || t.text === "repeated") {
      if (oneof) fail(`"${t.text}" is not allowed inside a oneof`, t);
      field.label = t.text;
      t = next();
    }
    if (t.text === "map") {
      if (oneof || field.label) fail("map fields cannot be optional, repeated or in a oneof", t);
      expect("<");
      const k = ident().text;
      expect(",");
      const v = ident().text;
      expect(">");
      if (k !== "string" || v !== "string") fail(`only map<string, string> is supported, got map<${k}, ${v}>`, t);
      field.label = "map";
      field.type = "string";
    } else {
      if (!/^[A-Za-z_.]/.test(t.text)) fail(`expected a type, got "${t.text}"`, t);
      field.type = t.text;
    }
    field.name = ident().text;
    expect("=");
    field.number = number();
    skipOptions();
    expect(";");
    return field;
  }

  function parseMessage(kw) {
    const msg = { doc: kw.doc, line: kw.line, name: ident().text, members: [] };
    expect("{");
    while (peek() !== "}") {
      const t = next();
      if (t.text === ";") continue;
      if (t.text === "option" || t.text === "reserved") { skipStatement(); continue; }
      if (t.text === "message" || t.text === "enum" || t.text === "extensions" || t.text === "extend") {
        fail(`nested "${t.text}" is not supported`, t);
      }
      if (t.text === "oneof") {
        const oneof = { kind: "oneof", doc: t.doc, line: t.line, name: ident().text, fields: [] };
        expect("{");
        while (peek() !== "}") {
          const f = next();
          if (f.text === "option") { skipStatement(); continue; }
          oneof.fields.push(parseField(f, oneof));
        }
        expect("}");
        if (oneof.fields.length === 0) fail(`oneof ${oneof.name} is empty`, t);
        msg.members.push(oneof);
      } else {
        msg.members.push({ kind: "field", ...parseField(t, undefined) });
      }
    }
    expect("}");
    return msg;
  }

  function parseEnum(kw) {
    const en = { doc: kw.doc, line: kw.line, name: ident().text, values: [] };
    expect("{");
    while (peek() !== "}") {
      const t = next();
      if (t.text === ";") continue;
      if (t.text === "option" || t.text === "reserved") { skipStatement(); continue; }
      expect("=");
      const value = number();
      skipOptions();
      expect(";");
      en.values.push({ doc: t.doc, name: t.text, number: value });
    }
    expect("}");
    if (en.values[0]?.number !== 0) fail(`enum ${en.name}: the first value must be 0 in proto3`, kw);
    return en;
  }

  function parseService(kw) {
    const svc = { doc: kw.doc, name: ident().text, methods: [] };
    expect("{");
    while (peek() !== "}") {
      const t = next();
      if (t.text === ";") continue;
      if (t.text === "option") { skipStatement(); continue; }
      if (t.text !== "rpc") fail(`unexpected "${t.text}" in service`, t);
      const m = { doc: t.doc, name: ident().text };
      expect("(");
      m.clientStreaming = peek() === "stream" ? (next(), true) : false;
      m.input = ident().text;
      expect(")");
      expect("returns");
      expect("(");
      m.serverStreaming = peek() === "stream" ? (next(), true) : false;
      m.output = ident().text;
      expect(")");
      if (peek() === "{") { while (next().text !== "}"); } else expect(";");
      svc.methods.push(m);
    }
    expect("}");
    return svc;
  }
}

// ---------------------------------------------------------------------------------------------
// Resolution and checks

const camel = (s) => s.replace(/_+([A-Za-z0-9])/g, (_, c) => c.toUpperCase());
const upperSnake = (s) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2").toUpperCase();

function resolve(ast, file) {
  const messages = new Map(ast.messages.map((m) => [m.name, m]));
  const enums = new Map(ast.enums.map((e) => [e.name, e]));
  const seen = new Set();
  for (const n of [...messages.keys(), ...enums.keys()]) {
    if (seen.has(n)) throw new Error(`${file}: duplicate type ${n}`);
    seen.add(n);
  }
  const strip = (t) => t.replace(/^\./, "").replace(new RegExp(`^${ast.pkg.replace(/\./g, "\\.")}\\.`), "");
  for (const msg of ast.messages) {
    const numbers = new Set();
    const names = new Set();
    msg.fields = [];
    for (const mem of msg.members) {
      const fields = mem.kind === "oneof" ? mem.fields : [mem];
      if (mem.kind === "oneof") {
        mem.tsName = camel(mem.name);
        if (names.has(mem.tsName)) throw new Error(`${file}:${mem.line}: duplicate name ${mem.name}`);
        names.add(mem.tsName);
      }
      for (const f of fields) {
        const where = `${file}:${f.line}: ${msg.name}.${f.name}`;
        f.tsName = camel(f.name);
        if (f.oneof === undefined) {
          if (names.has(f.tsName)) throw new Error(`${where}: duplicate name`);
          names.add(f.tsName);
        }
        if (numbers.has(f.number)) throw new Error(`${where}: duplicate field number ${f.number}`);
        if (f.number < 1 || f.number > 536870911 || (f.number >= 19000 && f.number <= 19999)) {
          throw new Error(`${where}: invalid field number ${f.number}`);
        }
        numbers.add(f.number);
        const t = strip(f.type);
        if (SCALARS.has(t)) f.kind = t;
        else if (messages.has(t)) { f.kind = "message"; f.ref = t; }
        else if (enums.has(t)) { f.kind = "enum"; f.ref = t; }
        else if (UNSUPPORTED_SCALARS.has(t)) throw new Error(`${where}: scalar type ${t} is not supported by this generator`);
        else throw new Error(`${where}: unknown type ${f.type}`);
        if (f.label === "repeated" && !["message", "string", "bytes"].includes(f.kind)) {
          throw new Error(`${where}: repeated ${f.kind} (packed) is not supported by this generator`);
        }
        f.tag = f.number * 8 + (f.label === "map" ? 2 : WIRE[f.kind]);
        msg.fields.push(f);
      }
    }
    // prost writes fields in ascending tag order, a oneof at the position of its lowest tag.
    msg.encodeOrder = [...msg.members].sort((a, b) => minTag(a) - minTag(b));
  }
  for (const svc of ast.services) {
    for (const m of svc.methods) {
      for (const t of [m.input, m.output]) {
        if (!messages.has(strip(t))) throw new Error(`${file}: rpc ${svc.name}.${m.name}: unknown message ${t}`);
      }
    }
  }
  for (const en of ast.enums) {
    const prefix = `${upperSnake(en.name)}_`;
    const all = en.values.every((v) => v.name.startsWith(prefix) && /^[A-Za-z_]/.test(v.name.slice(prefix.length)));
    for (const v of en.values) v.tsName = all ? v.name.slice(prefix.length) : v.name;
    if (new Set(en.values.map((v) => v.tsName)).size !== en.values.length) throw new Error(`${file}: enum ${en.name}: duplicate value name`);
  }
  return { messages, enums };
}

const minTag = (mem) => (mem.kind === "oneof" ? Math.min(...mem.fields.map((f) => f.number)) : mem.number);

// ---------------------------------------------------------------------------------------------
// Emitter

function emit(ast, source, sourcePath) {
  const out = [];
  const w = (s = "") => out.push(s);
  const doc = (lines, indent = "") => {
    const clean = lines.map((l) => l.replace(/\*\//g, "*\\/"));
    while (clean.length && clean[clean.length - 1] === "") clean.pop();
    if (clean.length === 0) return;
    if (clean.length === 1) w(`${indent}/** ${clean[0]} */`);
    else { w(`${indent}/**`); for (const l of clean) w(`${indent} *${l ? ` ${l}` : ""}`); w(`${indent} */`); }
  };
  const all = ast.messages.flatMap((m) => m.fields);
  const has = (pred) => all.some(pred);
  const T = (m) => `Proto${m}`;
  const tsType = (f) => {
    const base = { uint32: "number", uint64: "bigint", bool: "boolean", string: "string", bytes: "Uint8Array" }[f.kind]
      ?? (f.kind === "enum" ? f.ref : T(f.ref));
    if (f.label === "map") return "Map<string, string>";
    return f.label === "repeated" ? `${base}[]` : base;
  };
  const defaultValue = (f) => {
    if (f.label === "repeated") return "[]";
    if (f.label === "map") return "new Map()";
    return { uint32: "0", enum: "0", uint64: "0n", bool: "false", string: '""', bytes: "EMPTY_BYTES" }[f.kind];
  };
  const implicit = (f) => f.oneof === undefined && f.label === undefined && f.kind !== "message";
  const writeValue = (f, v, ind) => {
    const lines = [`w.tag(${f.tag});`];
    if (f.kind === "message") lines.push(`const s = w.begin();`, `write${f.ref}(w, ${v});`, `w.end(s);`);
    else lines.push(`w.${f.kind === "enum" ? "int32" : f.kind}(${v});`);
    return lines.map((l) => ind + l);
  };
  const readValue = (f) => (f.kind === "enum" ? `r.int32() as ${f.ref}` : `r.${f.kind}()`);

  w("// SPDX-License-Identifier: Apache-2.0");
  w("// Copyright the slim-ts authors");
  w("//");
  w(`// GENERATED FILE - DO NOT EDIT. Produced by scripts/gen-proto.mjs from ${sourcePath}`);
  w(`// (sha256 ${createHash("sha256").update(source).digest("hex")}).`);
  w("// Regenerate with `npm run gen:proto`.");
  w("//");
  w("// Encoding is byte-identical to prost (the official Rust encoder): ascending field order (a oneof at the");
  w("// position of its lowest field number), implicit-presence fields left out when they hold their default,");
  w("// `optional` fields and present messages always written, map entries without empty key/value.");
  w("// Decoding is bounded (maxBytes, default 4 MiB) and throws only SlimError (PROTOCOL, MESSAGE_TOO_LARGE);");
  w("// bytes fields of decoded messages are views into the input buffer.");
  w();
  const runtime = ["type Reader", "type Writer", "decodeWith", "encodeWith"];
  if (has((f) => f.kind === "bytes" && implicit(f))) runtime.push("EMPTY_BYTES");
  if (has((f) => f.label === "map")) runtime.push("readStringMapEntry", "writeStringMapEntry");
  runtime.sort((a, b) => a.replace(/^type /, "").localeCompare(b.replace(/^type /, "")));
  w(`import { ${runtime.join(", ")} } from "../proto-runtime.js";`);

  for (const svc of ast.services) {
    w();
    doc(svc.doc);
    w(`export const ${svc.name}Definition = {`);
    w(`  typeName: "${ast.pkg}.${svc.name}",`);
    w("  methods: {");
    for (const m of svc.methods) {
      doc(m.doc, "    ");
      w(`    ${camel(m.name[0].toLowerCase() + m.name.slice(1))}: {`);
      w(`      name: "${m.name}",`);
      w(`      path: "/${ast.pkg}.${svc.name}/${m.name}",`);
      w(`      clientStreaming: ${m.clientStreaming},`);
      w(`      serverStreaming: ${m.serverStreaming},`);
      w("    },");
    }
    w("  },");
    w("} as const;");
  }

  for (const en of ast.enums) {
    w();
    doc(en.doc);
    w(`export const ${en.name} = {`);
    for (const v of en.values) { doc(v.doc, "  "); w(`  ${v.tsName}: ${v.number},`); }
    w("} as const;");
    w(`export type ${en.name} = (typeof ${en.name})[keyof typeof ${en.name}];`);
  }

  for (const msg of ast.messages) {
    const n = msg.name;
    w();
    w(`// ${"-".repeat(96)}`);
    w(`// ${n}`);
    w();
    doc(msg.doc);
    w(`export interface ${T(n)} {${msg.members.length === 0 ? "}" : ""}`);
    for (const mem of msg.members) {
      doc(mem.doc, "  ");
      if (mem.kind === "oneof") {
        w(`  ${mem.tsName}:`);
        for (const f of mem.fields) w(`    | { case: "${f.tsName}"; value: ${tsType(f)} }`);
        w("    | { case: undefined; value?: undefined };");
      } else {
        const opt = mem.label === "optional" || (mem.kind === "message" && mem.label === undefined);
        w(`  ${mem.tsName}${opt ? "?" : ""}: ${tsType(mem)};`);
      }
    }
    if (msg.members.length !== 0) w("}");
    w();
    const defaults = msg.members.flatMap((mem) => {
      if (mem.kind === "oneof") return [`${mem.tsName}: { case: undefined }`];
      if (mem.label === "optional" || (mem.kind === "message" && mem.label === undefined)) return [];
      return [`${mem.tsName}: ${defaultValue(mem)}`];
    });
    w(`function new${n}(): ${T(n)} {`);
    w(`  return { ${defaults.join(", ")} };`.replace("{  }", "{}"));
    w("}");
    w();
    w(`/** A ${n} with every field at its default, then \`init\` applied (shallow). */`);
    w(`export function create${T(n)}(init?: Partial<${T(n)}>): ${T(n)} {`);
    w(`  return init === undefined ? new${n}() : { ...new${n}(), ...init };`);
    w("}");
    w();
    if (msg.members.length === 0) {
      w(`function write${n}(_w: Writer, _m: ${T(n)}): void {}`);
    } else {
    w(`function write${n}(w: Writer, m: ${T(n)}): void {`);
    for (const mem of msg.encodeOrder) {
      if (mem.kind === "oneof") {
        w(`  const ${mem.tsName} = m.${mem.tsName};`);
        w(`  switch (${mem.tsName}.case) {`);
        for (const f of mem.fields) {
          w(`    case "${f.tsName}": {`);
          for (const l of writeValue(f, `${mem.tsName}.value`, "      ")) w(l);
          w("      break;");
          w("    }");
        }
        w("  }");
        continue;
      }
      const f = mem;
      const v = `m.${f.tsName}`;
      if (f.label === "map") {
        w(`  for (const [k, v] of ${v}) writeStringMapEntry(w, ${f.tag}, k, v);`);
      } else if (f.label === "repeated") {
        w(`  for (const v of ${v}) {`);
        for (const l of writeValue(f, "v", "    ")) w(l);
        w("  }");
      } else {
        const cond = !implicit(f) ? `${v} !== undefined`
          : { uint32: `${v} !== 0`, enum: `${v} !== 0`, uint64: `${v} !== 0n`, bool: v, string: `${v} !== ""`,
            bytes: `${v}.length !== 0` }[f.kind];
        w(`  if (${cond}) {`);
        for (const l of writeValue(f, v, "    ")) w(l);
        w("  }");
      }
    }
    w("}");
    }
    w();
    w(`function read${n}(r: Reader, m: ${T(n)}): ${T(n)} {`);
    const known = msg.fields.map((f) => f.number).sort((a, b) => a - b).join(", ");
    if (msg.fields.length === 0) {
      w("  while (r.pos < r.end) r.unknown(r.tag(), []);");
    } else {
      w("  while (r.pos < r.end) {");
      w("    const t = r.tag();");
      w("    switch (t) {");
      for (const f of [...msg.fields].sort((a, b) => a.number - b.number)) {
        const block = f.kind === "message" && f.label !== "map";
        w(`      case ${f.tag}:${block ? " {" : ""}`);
        const target = f.oneof ? undefined : `m.${f.tsName}`;
        if (f.label === "map") {
          w(`        readStringMapEntry(r, ${target});`);
        } else if (f.kind === "message") {
          w("        const e = r.enter();");
          if (f.oneof) {
            const o = f.oneof.tsName;
            w(`        const cur = m.${o};`);
            w(`        m.${o} = { case: "${f.tsName}", value: read${f.ref}(r, cur.case === "${f.tsName}" ? cur.value : new${f.ref}()) };`);
          } else if (f.label === "repeated") {
            w(`        ${target}.push(read${f.ref}(r, new${f.ref}()));`);
          } else {
            w(`        ${target} = read${f.ref}(r, ${target} ?? new${f.ref}());`);
          }
          w("        r.end = e;");
        } else if (f.oneof) {
          w(`        m.${f.oneof.tsName} = { case: "${f.tsName}", value: ${readValue(f)} };`);
        } else if (f.label === "repeated") {
          w(`        ${target}.push(${readValue(f)});`);
        } else {
          w(`        ${target} = ${readValue(f)};`);
        }
        w("        break;");
        if (block) w("      }");
      }
      w("      default:");
      w(`        r.unknown(t, [${known}]);`);
      w("    }");
      w("  }");
    }
    w("  return m;");
    w("}");
    w();
    w(`/** Encodes a ${n} exactly as prost does. */`);
    w(`export function encode${T(n)}(m: ${T(n)}): Uint8Array {`);
    w(`  return encodeWith(m, write${n});`);
    w("}");
    w();
    w(`/** Decodes a ${n}; throws SlimError "PROTOCOL" if malformed, "MESSAGE_TOO_LARGE" above maxBytes. */`);
    w(`export function decode${T(n)}(bytes: Uint8Array, maxBytes?: number): ${T(n)} {`);
    w(`  return decodeWith(bytes, maxBytes, read${n}, new${n});`);
    w("}");
  }
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------

function main() {
  const check = process.argv.includes("--check");
  const source = readFileSync(INPUT, "utf8");
  const rel = relative(ROOT, INPUT).split("\\").join("/");
  const ast = parse(source, rel);
  resolve(ast, rel);
  const ts = emit(ast, source, rel);
  let current;
  try { current = readFileSync(OUTPUT, "utf8"); } catch { current = undefined; }
  const outRel = relative(ROOT, OUTPUT).split("\\").join("/");
  if (check) {
    if (current !== ts) {
      console.error(`${outRel} is stale: run npm run gen:proto`);
      process.exit(1);
    }
    console.log(`${outRel} is up to date`);
    return;
  }
  if (current === ts) {
    console.log(`${outRel} unchanged`);
    return;
  }
  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, ts);
  console.log(`wrote ${outRel} (${ast.messages.length} messages, ${ast.enums.length} enums)`);
}

main();
