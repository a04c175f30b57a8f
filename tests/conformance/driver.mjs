#!/usr/bin/env node
// The client under test in the MCP conformance suite's client scenarios: `mcpgw proxy URL`,
// driven through its stdio by this script, which plays the part of an AI client (it answers
// elicitation the way a host does, filling in the schema's defaults). The suite appends the
// scenario's server URL to the command and names the scenario in MCP_CONFORMANCE_SCENARIO.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const url = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO;
// OAuth scenarios: a pre-registered client comes in the context; the client ID metadata
// document's URL is the one the suite expects (mcpgw uses it only where the server takes it).
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}");
const args = ["proxy", url, "--client-metadata-url", "https://conformance-test.local/client-metadata.json"];
if (context.client_id) args.push("--client-id", context.client_id);
if (context.client_secret) args.push("--client-secret", context.client_secret);
const mcpgw = spawn(process.env.MCPGW_BIN, args, { stdio: ["pipe", "pipe", "inherit"] });

let nextId = 1;
const waiting = new Map();
const send = (msg) => mcpgw.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...msg }) + "\n");
const request = (method, params) =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    send({ id, method, params });
  });

// What a host answers to the server's own requests.
function answer(msg) {
  if (msg.method === "elicitation/create") {
    const content = {};
    for (const [name, field] of Object.entries(msg.params.requestedSchema?.properties ?? {})) {
      if (field.default !== undefined) content[name] = field.default;
    }
    return { action: "accept", content };
  }
  if (msg.method === "sampling/createMessage") {
    return { role: "assistant", content: { type: "text", text: "conformance" }, model: "driver" };
  }
  if (msg.method === "roots/list") return { roots: [] };
  return null;
}

createInterface({ input: mcpgw.stdout }).on("line", (line) => {
  const msg = JSON.parse(line);
  if (msg.method && msg.id !== undefined) {
    const result = answer(msg);
    return send(result ? { id: msg.id, result } : { id: msg.id, error: { code: -32601, message: "not supported" } });
  }
  const w = msg.id !== undefined && waiting.get(msg.id);
  if (!w) return;
  waiting.delete(msg.id);
  if (msg.error) w.reject(new Error(msg.error.message));
  else w.resolve(msg.result);
});

async function main() {
  await request("initialize", {
    protocolVersion: "2025-11-25",
    capabilities: { elicitation: {}, sampling: {}, roots: {} },
    clientInfo: { name: "mcpgw-conformance-driver", version: "1.0.0" },
  });
  send({ method: "notifications/initialized" });
  const { tools } = await request("tools/list", {});
  const call = (name, args = {}) => request("tools/call", { name, arguments: args });
  switch (scenario) {
    case "initialize":
      break;
    case "tools_call":
      await call("add_numbers", { a: 5, b: 3 });
      break;
    case "elicitation-sep1034-client-defaults":
      await call("test_client_elicitation_defaults");
      break;
    case "sse-retry":
      await call("test_reconnection");
      break;
    default:
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
