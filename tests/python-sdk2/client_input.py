"""A real client of the Python `mcp` SDK 2.x that answers elicitation, driving `mcpgw serve`
whose one server `m` (tests/python-sdk2/server.py) asks for a name: through its SDK
resolver, and by hand with `input_required` and a `requestState`.

Usage: client_input.py MODE MCPGW ARGS...   (MODE: 2026-07-28 | auto | legacy)
Prints `OK <protocol version>` last; any failure raises.
"""

from __future__ import annotations

import sys

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext
from mcp_types import ElicitRequestParams, ElicitResult

asked = []


async def on_elicit(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    asked.append(params.message)
    return ElicitResult(action="accept", content={"name": "Ada"})


async def main() -> None:
    mode, mcpgw, *args = sys.argv[1:]
    client = Client(
        StdioServerParameters(command=mcpgw, args=args),
        mode=mode,
        elicitation_callback=on_elicit,
        read_timeout_seconds=30,
    )
    async with client:
        result = await client.call_tool("m__greet_user", {})
        assert result.content[0].text == "Hello, Ada!", result
        result = await client.call_tool("m__greet_raw", {})
        assert result.content[0].text == "raw hello Ada (state=round-1)", result
        assert asked == ["What is your name?", "Who are you (raw)?"], asked
        print("OK", client.protocol_version)


if __name__ == "__main__":
    anyio.run(main)
