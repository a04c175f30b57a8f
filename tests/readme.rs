//! The README and the client snippets cannot rot: their config parses, their commands exist.

mod common;

use common::root;

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

#[test]
fn readme_config_blocks_load() {
    let text = readme();
    let blocks: Vec<&str> = text
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(!blocks.is_empty());
    for block in blocks {
        mcpgw::config::Config::parse_with_env(std::path::Path::new("README.md"), block, |_| {
            Some("/home/me".into())
        })
        .unwrap_or_else(|e| panic!("{e}\n{block}"));
    }
}

#[test]
fn readme_commands_exist() {
    use std::os::unix::fs::PermissionsExt;
    let text = readme();
    for script in ["scripts/demo", "scripts/test"] {
        assert!(text.contains(script), "README lacks {script}");
        let mode = std::fs::metadata(root().join(script))
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.contains("scripts/test"),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn client_snippets_launch_mcpgw_serve() {
    for file in [
        "claude_desktop_config.json",
        "cursor-mcp.json",
        "vscode-mcp.json",
    ] {
        let text = std::fs::read_to_string(root().join("examples/clients").join(file)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let entries = v.get("mcpServers").or(v.get("servers")).unwrap();
        assert_eq!(entries["mcpgw"]["command"], "mcpgw", "{file}");
        assert_eq!(
            entries["mcpgw"]["args"],
            serde_json::json!(["serve"]),
            "{file}"
        );
    }
}

/// `cargo install mcpgw` builds from what the crate packs: everything a build reads
/// (`include_str!` of the completions and the example config), and nothing of the tests.
#[test]
fn the_crate_packs_what_a_build_needs_and_no_tests() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["package", "--list", "--allow-dirty", "-p", "mcpgw"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = String::from_utf8(out.stdout).unwrap();
    for needed in [
        "src/main.rs",
        "completions/mcpgw.bash",
        "examples/mcpgw.toml",
        "LICENSE",
        "README.md",
    ] {
        assert!(files.lines().any(|f| f == needed), "{needed} is not packed");
    }
    for line in files.lines() {
        assert!(
            !["tests/", "scripts/", "packaging/", "crates/", ".github/"]
                .iter()
                .any(|dir| line.starts_with(dir)),
            "{line} is packed"
        );
    }
}
