#!/usr/bin/env node
// The client under test in the MCP conformance suite's client scenarios: `mcpgw proxy URL`
// (or, with MCPGW_FACE=serve, `mcpgw serve` with the scenario's server as its one upstream,
// `s`), driven through its stdio by this script, which plays the part of a complete AI client
// application of the scenario's protocol version (MCP_CONFORMANCE_PROTOCOL_VERSION):
// - 2025-11-25 and earlier: `initialize`, and answers to the server's own requests;
// - 2026-07-28: no handshake, the per-request `_meta`, and `input_required` answered and
//   retried with `inputResponses` and the `requestState` as received.
// It answers elicitation as a host does (the schema's defaults), makes the tool calls a
// scenario's context names, and checks skills as a host must before loading them (digest,
// size and frontmatter against the `skills/list` entry). The suite appends the scenario's
// server URL to the command and names the scenario in MCP_CONFORMANCE_SCENARIO.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const url = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO;
const version = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? "2025-11-25";
const stateless = version >= "2026-07-28";
// OAuth scenarios: a pre-registered client comes in the context; the client ID metadata
// document's URL is the one the suite expects (mcpgw uses it only where the server takes it).
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}");
const metadataUrl = "https://conformance-test.local/client-metadata.json";
const serve = process.env.MCPGW_FACE === "serve";
// Under `serve`, the server's tools and prompts are named `s__…`.
const prefix = serve ? "s__" : "";
let args;
if (serve) {
  const dir = mkdtempSync(join(tmpdir(), "mcpgw-conformance-"));
  const lines = ["[servers.s]", `url = ${JSON.stringify(url)}`, "[servers.s.oauth]", `client_metadata_url = ${JSON.stringify(metadataUrl)}`];
  if (context.client_id) lines.push(`client_id = ${JSON.stringify(context.client_id)}`);
  if (context.client_secret) lines.push(`client_secret = ${JSON.stringify(context.client_secret)}`);
  writeFileSync(join(dir, "config.toml"), lines.join("\n") + "\n");
  args = ["serve", "--config", join(dir, "config.toml")];
} else {
  args = ["proxy", url, "--client-metadata-url", metadataUrl];
  if (context.client_id) args.push("--client-id", context.client_id);
  if (context.client_secret) args.push("--client-secret", context.client_secret);
}
const mcpgw = spawn(process.env.MCPGW_BIN, args, { stdio: ["pipe", "pipe", "inherit"] });

const capabilities = { elicitation: {}, sampling: {}, roots: {} };
const clientInfo = { name: "mcpgw-conformance-driver", version: "1.0.0" };
let nextId = 1;
const waiting = new Map();
const send = (msg) => mcpgw.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...msg }) + "\n");
const request = (method, params = {}) =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    if (stateless) {
      params = {
        ...params,
        _meta: {
          ...params._meta,
          "io.modelcontextprotocol/protocolVersion": version,
          "io.modelcontextprotocol/clientCapabilities": capabilities,
          "io.modelcontextprotocol/clientInfo": clientInfo,
        },
      };
    }
    send({ id, method, params });
  });

// What a host answers to a server's request for input (a request of its own, or an entry of
// `inputRequests`).
function answer(method, params) {
  if (method === "elicitation/create") {
    const content = {};
    for (const [name, field] of Object.entries(params?.requestedSchema?.properties ?? {})) {
      if (field.default !== undefined) content[name] = field.default;
    }
    return { action: "accept", content };
  }
  if (method === "sampling/createMessage") {
    return { role: "assistant", content: { type: "text", text: "conformance" }, model: "driver" };
  }
  if (method === "roots/list") return { roots: [] };
  return null;
}

createInterface({ input: mcpgw.stdout }).on("line", (line) => {
  const msg = JSON.parse(line);
  if (msg.method && msg.id !== undefined) {
    const result = answer(msg.method, msg.params);
    return send(result ? { id: msg.id, result } : { id: msg.id, error: { code: -32601, message: "not supported" } });
  }
  const w = msg.id !== undefined && waiting.get(msg.id);
  if (!w) return;
  waiting.delete(msg.id);
  if (msg.error) w.reject(new Error(msg.error.message));
  else w.resolve(msg.result);
});

// A request whose server may ask for input first (2026-07-28): answered, and retried.
async function withInput(method, params) {
  let extra = {};
  for (let round = 0; round < 10; round++) {
    const result = await request(method, { ...params, ...extra });
    if (result?.resultType !== "input_required") return result;
    const inputResponses = {};
    for (const [key, asked] of Object.entries(result.inputRequests ?? {})) {
      inputResponses[key] = answer(asked.method, asked.params) ?? {};
    }
    extra = { inputResponses };
    if (result.requestState !== undefined) extra.requestState = result.requestState;
  }
  throw new Error(`${method}: still asking for input after 10 rounds`);
}

const call = (name, args = {}) => withInput("tools/call", { name, arguments: args });
// A tool the scenario names, by the name mcpgw shows it under.
const callNamed = (name, args = {}) => call(prefix + name, args);

// A host loads a skill only if what it reads is what `skills/list` promised.
async function useSkills() {
  const { skills = [] } = await request("skills/list", {});
  if (scenario === "sep-2640-client-no-prefetch") return; // listed, not loaded
  for (const skill of skills) {
    const read = await withInput("resources/read", { uri: skill.uri });
    const content = read.contents?.[0];
    const bytes = content?.blob !== undefined ? Buffer.from(content.blob, "base64") : Buffer.from(content?.text ?? "", "utf8");
    const entry = (skill.resources ?? []).find((r) => r.uri === skill.uri) ?? skill;
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (entry.digest !== undefined && entry.digest !== digest) continue;
    if (entry.size !== undefined && entry.size !== bytes.length) continue;
    const front = /^---\n([\s\S]*?)\n---/.exec(bytes.toString("utf8"))?.[1] ?? "";
    const said = Object.fromEntries(
      front.split("\n").map((l) => l.split(/:\s*/, 2)).filter((p) => p.length === 2),
    );
    const promised = skill.frontmatter ?? {};
    if (Object.entries(promised).some(([k, v]) => said[k] !== String(v))) continue;
    for (const file of skill.resources ?? []) {
      if (file.uri !== skill.uri) await withInput("resources/read", { uri: file.uri });
    }
  }
}

async function main() {
  if (!stateless) {
    await request("initialize", { protocolVersion: version, capabilities, clientInfo });
    send({ method: "notifications/initialized" });
  }
  const { tools } = await request("tools/list", {});
  if (context.toolCalls) {
    for (const c of context.toolCalls) await callNamed(c.name, c.arguments).catch(() => {});
    return;
  }
  switch (scenario) {
    case "initialize":
      break;
    case "tools_call":
      await callNamed("add_numbers", { a: 5, b: 3 });
      break;
    case "elicitation-sep1034-client-defaults":
      await callNamed("test_client_elicitation_defaults");
      break;
    case "sse-retry":
      await callNamed("test_reconnection");
      break;
    case "json-schema-2020-12-preservation": {
      // The application hands the tool's schema back as it got it.
      const focal = tools.find((t) => t.name !== prefix + "json_schema_echo");
      await callNamed("json_schema_echo", { schema: focal.inputSchema });
      break;
    }
    default:
      if (scenario?.startsWith("sep-2640-")) return useSkills();
      // Any other scenario: call every tool once.
      for (const tool of tools) await call(tool.name).catch(() => {});
  }
}

main()
  .then(() => {
    mcpgw.stdin.end();
    mcpgw.on("exit", (code) => process.exit(code ?? 0));
  })
  .catch((e) => {
    console.error(`driver: ${e.message}`);
    mcpgw.kill();
    process.exit(1);
  });
