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
