"""A real client of the Python `mcp` SDK 2.x that answers elicitation, driving `mcpgw serve`
whose one server asks it for a name:
- SERVER `sdk`: `m` (tests/python-sdk2/server.py, of 2026-07-28), through its SDK resolver
  and by hand with `input_required` and a `requestState` (`sdk-proxy`: the same behind
  `mcpgw proxy`, its tools not prefixed);
- SERVER `everything`: `every` (the reference server, of the handshake era), with an
  `elicitation/create` request of its own while serving the call.

Usage: client_input.py MODE SERVER MCPGW ARGS...   (MODE: 2026-07-28 | auto | legacy)
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
    return ElicitResult(action="accept", content={"name": "Ada", "check": True, "email": "ada@example.org"})


async def main() -> None:
    mode, server, mcpgw, *args = sys.argv[1:]
    client = Client(
        StdioServerParameters(command=mcpgw, args=args),
        mode=mode,
        elicitation_callback=on_elicit,
        read_timeout_seconds=30,
    )
    async with client:
        if server == "everything":
            result = await client.call_tool("every__trigger-elicitation-request", {})
            said = " ".join(c.text for c in result.content)
            assert "Name: Ada" in said, result
            assert len(asked) == 1, asked
            print("OK", client.protocol_version)
            return
        prefix = "" if server == "sdk-proxy" else "m__"
        result = await client.call_tool(prefix + "greet_user", {})
        assert result.content[0].text == "Hello, Ada!", result
        result = await client.call_tool(prefix + "greet_raw", {})
        assert result.content[0].text == "raw hello Ada (state=round-1)", result
        assert asked == ["What is your name?", "Who are you (raw)?"], asked
        print("OK", client.protocol_version)


if __name__ == "__main__":
    anyio.run(main)
