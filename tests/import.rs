//! `mcpgw import`: realistic Claude Desktop and Cursor configs with secrets in them. The
//! written config holds none, the store holds them, and the imported servers work.

mod common;

use common::*;

const ENV_KEY: &str = "sk-env-4b8e2d7a91";
const HEADER_KEY: &str = "sk-hdr-c0ffee1234";

#[tokio::test]
async fn claude_desktop_and_cursor_configs_come_over_with_their_secrets_in_the_keyring() {
    let keyring = Keyring::start();
    let http = HttpServer::faulty_with(&[("REQUIRE_KEY", HEADER_KEY)]);
    let dir = tempfile::tempdir().unwrap();
    let claude = dir.path().join("claude_desktop_config.json");
    std::fs::write(
        &claude,
        serde_json::to_string_pretty(&serde_json::json!({
            "mcpServers": {
                "everything": { "command": node(), "args": [everything_js(), "stdio"], "env": { "EVERYTHING_API_KEY": ENV_KEY, "LOG_LEVEL": "info" } },
                "remote api": { "command": "npx", "args": ["-y", "mcp-remote", http.url("/mcp"), "--header", "Authorization:${AUTH}", "--allow-http"], "env": { "AUTH": format!("Bearer {HEADER_KEY}") } },
                "mcpgw": { "command": "mcpgw", "args": ["serve"] }
            },
            "globalShortcut": "Ctrl+Space"
        }))
        .unwrap(),
    )
    .unwrap();
    let cursor = dir.path().join("mcp.json");
    std::fs::write(&cursor, serde_json::json!({ "mcpServers": { "cursor-remote": { "url": http.url("/mcp"), "headers": { "X-API-Key": HEADER_KEY } } } }).to_string()).unwrap();
    let config = dir.path().join("mcpgw/config.toml");

    // A dry run shows the plan, writes nothing and prints no secret.
    let dry = Cli::new(&["import", claude.to_str().unwrap(), "--dry-run"])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    let shown = format!("{dry:?}");
    assert!(dry.status.success(), "{shown}");
    assert!(
        shown.contains("remote-api") && shown.contains("goes to the secret store"),
        "{shown}"
    );
    assert!(
        !shown.contains(ENV_KEY) && !shown.contains(HEADER_KEY),
        "{shown}"
    );
    assert!(!config.exists());

    for file in [&claude, &cursor] {
        let out = Cli::new(&["import", file.to_str().unwrap()])
            .config(&config)
            .envs(&keyring.env())
            .trace()
            .run();
        let shown = format!("{out:?}");
        assert!(out.status.success(), "{shown}");
        assert!(
            !shown.contains(ENV_KEY) && !shown.contains(HEADER_KEY),
            "a secret was printed: {shown}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("\"mcpServers\"") && stdout.contains("\"serve\""),
            "the snippet to paste back: {stdout}"
        );
    }
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        !written.contains(ENV_KEY) && !written.contains(HEADER_KEY),
        "{written}"
    );
    assert!(
        written.contains("{secret}")
            && written.contains("[servers.remote-api]")
            && written.contains("[servers.cursor-remote]"),
        "{written}"
    );
    assert!(
        !written.contains("[servers.mcpgw]"),
        "mcpgw does not import itself: {written}"
    );

    // The imported setup works end to end, keys from the keyring.
    let env = Cli::new(&["call", "everything__get-env"])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert!(
        String::from_utf8_lossy(&env.stdout).contains(ENV_KEY),
        "{}",
        String::from_utf8_lossy(&env.stderr)
    );
    for server in ["remote-api", "cursor-remote"] {
        let call = Cli::new(&[
            "call",
            &format!("{server}__echo"),
            r#"{"message":"imported"}"#,
        ])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
        assert_eq!(
            String::from_utf8_lossy(&call.stdout),
            "echo: imported\n",
            "{server}: {}",
            String::from_utf8_lossy(&call.stderr)
        );
    }
    // Importing again leaves what is there alone.
    let again = Cli::new(&["import", cursor.to_str().unwrap()])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert!(String::from_utf8_lossy(&again.stdout).contains("left as it is"));
}

/// A client whose only entry is mcpgw itself (as installed from npm or PyPI) has nothing to
/// import, and `import` says what it skipped rather than that the file lists no servers.
#[test]
fn an_entry_that_starts_mcpgw_itself_is_named_when_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let client = dir.path().join("claude_desktop_config.json");
    std::fs::write(
        &client,
        serde_json::json!({ "mcpServers": {
            "gw": { "command": "npx", "args": ["-y", "mcpgw", "serve"] },
            "gw2": { "command": "uvx", "args": ["mcpgw", "serve"] }
        } })
        .to_string(),
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    let out = Cli::new(&["import", client.to_str().unwrap()])
        .config(&config)
        .run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for said in [
        "skipped `gw`: it starts mcpgw itself",
        "skipped `gw2`: it starts mcpgw itself",
        "lists no MCP servers to import besides mcpgw itself (`gw`, `gw2`)",
    ] {
        assert!(stderr.contains(said), "{said}: {stderr}");
    }
    assert!(!config.exists());
}
