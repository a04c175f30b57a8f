"""A real client of the Python `mcp` SDK 2.x driving `mcpgw serve` over stdio, in one of the
SDK's modes: "2026-07-28" (stateless, no probe), "auto" (probes with server/discover, falls
back to initialize) or "legacy" (initialize only).

Usage: client.py MODE PREFIX MCPGW ARGS...   (or MODE PREFIX URL: the gateway's HTTP face)
The gateway's one server is the reference server, its tools and prompts named PREFIX + name
(`every__` under `mcpgw serve`, nothing under `mcpgw proxy`). Prints what it did and, last,
`OK <protocol version>`; any failure raises (exit status 1).
"""

from __future__ import annotations

import sys

import anyio
from mcp import Client, StdioServerParameters

DOC = "demo://resource/static/document/architecture.md"


async def main() -> None:
    mode, prefix, mcpgw, *args = sys.argv[1:]
    server = mcpgw if mcpgw.startswith("http") else StdioServerParameters(command=mcpgw, args=args)
    client = Client(server, mode=mode, read_timeout_seconds=30)
    async with client:
        version = client.protocol_version
        print("protocol", version)
        tools = [t.name for t in (await client.list_tools()).tools]
        assert prefix + "echo" in tools, tools
        result = await client.call_tool(prefix + "echo", {"message": "hi"})
        assert result.content[0].text == "Echo: hi", result
        resources = [str(r.uri) for r in (await client.list_resources()).resources]
        assert DOC in resources, resources
        read = await client.read_resource(DOC)
        assert read.contents, read
        templates = (await client.list_resource_templates()).resource_templates
        assert templates, "no templates"
        prompts = [p.name for p in (await client.list_prompts()).prompts]
        assert prefix + "simple-prompt" in prompts, prompts
        prompt = await client.get_prompt(prefix + "simple-prompt", {})
        assert prompt.messages, prompt
        print("listed and called", len(tools), "tools,", len(resources), "resources,", len(prompts), "prompts")
        if version == "2026-07-28":
            async with client.listen(resource_subscriptions=[DOC]) as sub:
                honored = sub.honored.model_dump(exclude_none=True, by_alias=True)
                assert DOC in honored.get("resourceSubscriptions", []), honored
                await client.call_tool(prefix + "toggle-subscriber-updates", {})
                event = None
                with anyio.fail_after(15):
                    async for event in sub:
                        break
                print("listen event", event)
                assert event is not None and DOC in str(event), event
    print("OK", version)


if __name__ == "__main__":
    anyio.run(main)
