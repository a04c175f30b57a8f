//! `mcpgw call TOOL [JSON]`: one tool call through the gateway. Text content is printed as
//! text, other content as a short summary; exit status 1 when the result has `isError`.

use std::process::ExitCode;

use serde_json::{Value, json};

use super::{Context, UsageError};
use crate::client::ClientError;

pub async fn run(
    ctx: &Context,
    tool: String,
    arguments: Option<String>,
    raw: bool,
) -> anyhow::Result<ExitCode> {
    let arguments: Value = match arguments.as_deref() {
        None => json!({}),
        Some(text) => match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                return Err(UsageError(
                    "the arguments must be a JSON object, like '{\"message\": \"hi\"}'".into(),
                )
                .into());
            }
            Err(e) => {
                return Err(UsageError(format!("the arguments are not valid JSON: {e}")).into());
            }
        },
    };
    let local = ctx.local().await?;
    // Names are only known once the servers have listed their tools.
    let tools = local.tools().await?;
    let known = tools
        .iter()
        .any(|t| t.get("name").and_then(Value::as_str) == Some(tool.as_str()));
    let result = local
        .client
        .request(
            "tools/call",
            json!({ "name": tool, "arguments": arguments }),
        )
        .await;
    local.stop().await;
    let result = match result {
        Ok(r) => r,
        Err(ClientError::Rpc(e)) if !known => {
            return Err(
                UsageError(format!("{} (see `mcpgw tools` for the names)", e.message)).into(),
            );
        }
        Err(e) => return Err(e.into()),
    };
    if raw {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_content(&result);
    }
    let failed = result
        .get("isError")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_content(result: &Value) {
    let content = result
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for item in content {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("?");
        let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
        match kind {
            "text" => println!("{}", field("text")),
            "image" | "audio" => println!(
                "[{kind}: {}, {} base64 bytes]",
                field("mimeType"),
                field("data").len()
            ),
            "resource_link" => println!("[resource link: {} {}]", field("uri"), field("name")),
            "resource" => {
                let r = item.get("resource").cloned().unwrap_or_default();
                match r.get("text").and_then(Value::as_str) {
                    Some(text) => println!("{text}"),
                    None => println!(
                        "[resource: {}]",
                        r.get("uri").and_then(Value::as_str).unwrap_or_default()
                    ),
                }
            }
            other => println!("[{other} content]"),
        }
    }
    if content.is_empty()
        && let Some(structured) = result.get("structuredContent")
    {
        println!(
            "{}",
            serde_json::to_string_pretty(structured).unwrap_or_default()
        );
    }
}
