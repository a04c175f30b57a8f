//! `mcpgw tools [SERVER]`: the tool list exactly as an AI client receives it.

use std::process::ExitCode;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

use super::Context;
use crate::hub::Control;

pub async fn run(ctx: &Context, server: Option<String>, json: bool) -> anyhow::Result<ExitCode> {
    let wanted = match &server {
        None => None,
        Some(name) => Some(ctx.server(name)?.name.clone()),
    };
    let local = ctx.local().await?;
    let tools = local.tools().await;
    // Ask the gateway whose each tool is: a shortened name need not show its server.
    let owners = local.control(Control::ToolOwners).await?;
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
