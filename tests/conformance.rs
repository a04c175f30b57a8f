//! The MCP conformance suite's client scenarios, run against `mcpgw proxy` (driven by
//! `tests/conformance/driver.mjs`). The suite is pinned in tests/npm with the Node 22 it needs.

mod common;

use common::root;

fn scenario(name: &str) {
    let npm = root().join("tests/npm/node_modules");
    let node = npm.join(".bin/node");
    let suite = npm.join("@modelcontextprotocol/conformance/dist/index.js");
    assert!(
        node.exists() && suite.exists(),
        "the conformance suite is not installed: run `scripts/test` once (npm ci in tests/npm)"
    );
    let out = std::process::Command::new(&node)
        .arg(&suite)
        .args([
            "client",
            "--command",
            "node tests/conformance/driver.mjs",
            "--scenario",
            name,
        ])
        .current_dir(root())
        .env("MCPGW_BIN", env!("CARGO_BIN_EXE_mcpgw"))
        .env("MCPGW_LOG", "warn")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = text
        .lines()
        .find(|l| l.starts_with("Passed:"))
        .unwrap_or("no summary");
    assert!(
        out.status.success() && text.contains("OVERALL: PASSED") && summary.contains(" 0 failed"),
        "{name}: {summary}\n{text}"
    );
    // Warnings are checks that did not fully pass either (late retry, no Last-Event-ID…).
    assert!(summary.contains(" 0 warnings"), "{name}: {summary}\n{text}");
}

#[test]
fn conformance_initialize() {
    scenario("initialize");
}

#[test]
fn conformance_tools_call() {
    scenario("tools_call");
}

#[test]
fn conformance_sse_retry() {
    scenario("sse-retry");
}

#[test]
fn conformance_elicitation_defaults() {
    scenario("elicitation-sep1034-client-defaults");
}
