//! The Python `mcp` SDK's 2.x line as a real client of mcpgw, in each of its modes: pinned to
//! 2026-07-28 (stateless, no probe), auto (probes with `server/discover`, which mcpgw
//! answers, so it stays stateless) and legacy (`initialize`). It drives `mcpgw serve` and
//! `mcpgw proxy`, each in front of the reference server, through
//! `tests/python-sdk2/client.py`: lists, calls, reads, prompts and, in the stateless era, a
//! `subscriptions/listen` that hears a resource update.

mod common;

use common::*;

fn drive(mode: &str, prefix: &str, gateway: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(python_sdk2())
        .arg(root().join("tests/python-sdk2/client.py"))
        .args([mode, prefix, mcpgw_bin()])
        .args(gateway)
        .env("XDG_CACHE_HOME", home.path())
        .env("MCPGW_LOG", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{mode} through {gateway:?}:\n{text}");
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("OK "))
        .unwrap_or_else(|| panic!("no OK line:\n{text}"))
        .to_owned()
}

fn serve_config() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let text = Setup::new()
        .server(Server::everything("every"))
        .config_text();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

#[test]
fn the_sdk_pinned_to_2026_07_28_uses_serve_statelessly() {
    let (_dir, config) = serve_config();
    assert_eq!(
        drive("2026-07-28", "every__", &["serve", "--config", &config]),
        "2026-07-28"
    );
}

#[test]
fn the_sdk_in_auto_mode_finds_serve_stateless() {
    let (_dir, config) = serve_config();
    assert_eq!(
        drive("auto", "every__", &["serve", "--config", &config]),
        "2026-07-28"
    );
}

#[test]
fn the_sdk_in_legacy_mode_shakes_hands_with_serve() {
    let (_dir, config) = serve_config();
    assert_eq!(
        drive("legacy", "every__", &["serve", "--config", &config]),
        "2025-11-25"
    );
}

#[test]
fn the_sdk_in_each_mode_through_proxy() {
    let server = HttpServer::everything("streamableHttp");
    let url = server.url("/mcp");
    for (mode, version) in [
        ("2026-07-28", "2026-07-28"),
        ("auto", "2026-07-28"),
        ("legacy", "2025-11-25"),
    ] {
        assert_eq!(drive(mode, "", &["proxy", &url]), version, "{mode}");
    }
}
