//! The MCP conformance suite's client scenarios, run against `mcpgw proxy` (driven by
//! `tests/conformance/driver.mjs`). The suite is pinned in tests/npm with the Node 22 it needs.
//!
//! The `auth/*` scenarios log in for real: `$BROWSER` is `tests/conformance/browser.mjs`, which
//! follows the authorization URL's redirects back to mcpgw's loopback listener, and the tokens
//! go to an encrypted secret file of the test's own.

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
    let home = tempfile::tempdir().unwrap();
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
        .env("BROWSER", root().join("tests/conformance/browser.mjs"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.path().join("run"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("MCPGW_SECRET_KEY", "conformance-passphrase")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
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

/// One test per OAuth scenario the issue names; none is expected to fail.
macro_rules! auth_scenarios {
    ($($test:ident => $name:literal,)*) => {$(
        #[test]
        fn $test() {
            scenario(concat!("auth/", $name));
        }
    )*};
}

auth_scenarios! {
    conformance_auth_metadata_default => "metadata-default",
    conformance_auth_metadata_var1 => "metadata-var1",
    conformance_auth_metadata_var2 => "metadata-var2",
    conformance_auth_metadata_var3 => "metadata-var3",
    conformance_auth_basic_cimd => "basic-cimd",
    conformance_auth_scope_from_www_authenticate => "scope-from-www-authenticate",
    conformance_auth_scope_from_scopes_supported => "scope-from-scopes-supported",
    conformance_auth_scope_omitted_when_undefined => "scope-omitted-when-undefined",
    conformance_auth_scope_step_up => "scope-step-up",
    conformance_auth_scope_retry_limit => "scope-retry-limit",
    conformance_auth_token_endpoint_auth_basic => "token-endpoint-auth-basic",
    conformance_auth_token_endpoint_auth_post => "token-endpoint-auth-post",
    conformance_auth_token_endpoint_auth_none => "token-endpoint-auth-none",
    conformance_auth_pre_registration => "pre-registration",
    conformance_auth_2025_03_26_metadata_backcompat => "2025-03-26-oauth-metadata-backcompat",
    conformance_auth_2025_03_26_endpoint_fallback => "2025-03-26-oauth-endpoint-fallback",
    conformance_auth_resource_mismatch => "resource-mismatch",
    conformance_auth_offline_access_scope => "offline-access-scope",
    conformance_auth_offline_access_not_supported => "offline-access-not-supported",
}
