//! `mcpgw tools [SERVER]`: the tool list exactly as an AI client receives it.

use std::process::ExitCode;
use std::sync::Arc;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

use super::{Local, UsageError};
use crate::config::Config;

pub async fn run(
    config: Arc<Config>,
    server: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let wanted = match &server {
        None => None,
        Some(name) => {
            if !config.servers.iter().any(|s| &s.name == name) {
                let names: Vec<_> = config.servers.iter().map(|s| s.name.as_str()).collect();
                let hint = names
                    .iter()
                    .max_by(|a, b| {
                        strsim::jaro_winkler(name, a).total_cmp(&strsim::jaro_winkler(name, b))
                    })
                    .map_or(String::new(), |n| format!("; did you mean `{n}`?"));
                return Err(
                    UsageError(format!("no server named `{name}` in the config{hint}")).into(),
                );
            }
            Some(name.clone())
        }
    };
    let local = Local::start(config).await?;
    let tools = local.tools().await;
    // Ask the gateway whose each tool is: a shortened name need not show its server.
    let (tx, rx) = tokio::sync::oneshot::channel();
    local.control.send(crate::hub::Control::ToolOwners(tx))?;
    let owners = rx.await?;
    local.stop().await;
    let tools: Vec<Value> = tools?
        .into_iter()
        .filter(|t| {
            let name = t.get("name").and_then(Value::as_str).unwrap_or_default();
            wanted.as_ref().is_none_or(|w| owners.get(name) == Some(w))
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "tools": tools }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(["TOOL", "DESCRIPTION"]);
    for t in &tools {
        let name = t.get("name").and_then(Value::as_str).unwrap_or_default();
        let description = t
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        table.add_row([name, description.lines().next().unwrap_or_default()]);
    }
    println!("{table}");
    eprintln!("{} tool(s)", tools.len());
    Ok(ExitCode::SUCCESS)
}
