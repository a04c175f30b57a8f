"""An MCP server on the real `mcp` SDK (2.x), for mcpgw's tests of both protocol eras.

Usage:
  server.py [--modern-only] [--http [PORT]]   (PORT: else $PORT)

  default        : dual-era (handshake 2024-11-05..2025-11-25 AND 2026-07-28) over stdio
  --modern-only  : refuses `initialize` with -32022 {supported:["2026-07-28"]} (middleware veto)
  --http PORT    : Streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio (uvicorn)
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import anyio
from pydantic import BaseModel

from mcp import MCPError
from mcp.server.context import CallNext, ServerRequestContext
from mcp.server.mcpserver import Context, Elicit, ListRoots, MCPServer, Resolve, Sample
from mcp_types import (
    UNSUPPORTED_PROTOCOL_VERSION,
    CallToolResult,
    CreateMessageResult,
    ElicitRequest,
    ElicitRequestFormParams,
    InputRequiredResult,
    ListRootsResult,
    SamplingMessage,
    TextContent,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

MODERN_ONLY = "--modern-only" in sys.argv

mcp = MCPServer("demo-server", version="1.0.0", instructions="demo server for mcpgw tests")


# ---------------------------------------------------------------- modern-only veto
async def refuse_initialize(ctx: ServerRequestContext[Any, Any], call_next: CallNext):
    """ServerMiddleware: veto the handshake (raise BEFORE call_next, per the SDK docstring)."""
    if ctx.method == "initialize":
        requested = (ctx.params or {}).get("protocolVersion")
        raise MCPError(
            code=UNSUPPORTED_PROTOCOL_VERSION,
            message="this server speaks only 2026-07-28; initialize is not accepted",
            data={"supported": list(MODERN_PROTOCOL_VERSIONS), "requested": requested},
        )
    return await call_next(ctx)


if MODERN_ONLY:
    mcp.middleware.append(refuse_initialize)


# ---------------------------------------------------------------- tools
@mcp.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class NameForm(BaseModel):
    name: str


def ask_name() -> Elicit[NameForm]:
    # A resolver: returning an Elicit marker makes the framework ask the client.
    # >=2026-07-28 -> InputRequiredResult{inputRequests, requestState}; <=2025-11-25 -> elicitation/create request.
    return Elicit("What is your name?", NameForm)


@mcp.tool()
def greet_user(form: Annotated[NameForm, Resolve(ask_name)]) -> str:
    """Greets the user after eliciting their name (both eras, framework-driven)."""
    return f"Hello, {form.name}!"


def ask_llm() -> Sample:
    # >=2026-07-28 -> an input request; <=2025-11-25 -> a sampling/createMessage request.
    return Sample(
        [SamplingMessage(role="user", content=TextContent(type="text", text="Write a haiku"))],
        max_tokens=50,
    )


@mcp.tool()
def sample_haiku(reply: Annotated[CreateMessageResult, Resolve(ask_llm)]) -> str:
    """Asks the client's LLM for a haiku (sampling, both eras)."""
    return f"sampled: {reply.content.text}"


def ask_roots() -> ListRoots:
    return ListRoots()


@mcp.tool()
def roots_seen(roots: Annotated[ListRootsResult, Resolve(ask_roots)]) -> str:
    """Lists the client's roots (roots, both eras)."""
    return "roots: " + ", ".join(str(r.uri) for r in roots.roots)


@mcp.tool()
async def greet_raw(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Hand-rolled MRTR (modern era only): return InputRequiredResult, read ctx.input_responses on retry."""
    answers = ctx.input_responses or {}
    if "who" not in answers:
        return InputRequiredResult(
            input_requests={
                "who": ElicitRequest(
                    params=ElicitRequestFormParams(
                        message="Who are you (raw)?",
                        requested_schema={
                            "type": "object",
                            "properties": {"name": {"type": "string"}},
                            "required": ["name"],
                        },
                    )
                )
            },
            request_state="round-1",  # sealed (AES-GCM) by RequestStateBoundary before it hits the wire
        )
    resp = answers["who"]
    name = (getattr(resp, "content", None) or {}).get("name")
    return CallToolResult(
        content=[TextContent(type="text", text=f"raw hello {name} (state={ctx.request_state})")]
    )


@mcp.tool()
async def add_dynamic_tool(ctx: Context) -> str:
    """Registers a new tool and publishes tools/list_changed to subscriptions/listen streams."""
    if "late_tool" not in [t.name for t in await mcp.list_tools()]:
        mcp.add_tool(lambda: "late!", name="late_tool", description="added at runtime")
    await ctx.notify_tools_changed()
    await ctx.notify_resource_updated("demo://info")
    return "added"


@mcp.tool()
async def log_and_progress(ctx: Context) -> str:
    """Emits log messages (debug+warning) and progress notifications."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await ctx.log("debug", "a debug line")
        await ctx.log("warning", "a warning line")
    await ctx.report_progress(1, 2, "half")
    return "logged"


@mcp.tool()
async def slow(seconds: float) -> str:
    """Sleeps; used to test client timeouts / cancellation."""
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        # For the tests: a file to say the server took the request as cancelled.
        mark = os.environ.get("MCPGW_TEST_CANCELLED")
        if mark:
            with open(mark, "a") as f:
                f.write("slow cancelled\n")
        raise
    return "slept"


# ---------------------------------------------------------------- resources / prompts / completion
@mcp.resource("demo://info", mime_type="text/plain")
def info() -> str:
    return "demo resource contents"


@mcp.resource("greet://{name}")
def greet_resource(name: str) -> str:
    return f"greetings, {name}"


@mcp.prompt()
def greeting_prompt(who: str) -> str:
    """A prompt with one argument."""
    return f"Please greet {who} warmly."


@mcp.completion()
async def complete(ref, argument, context):
    from mcp_types import Completion

    if argument.name in ("who", "name"):
        vals = [v for v in ("alice", "bob", "carol") if v.startswith(argument.value)]
        return Completion(values=vals, total=len(vals), has_more=False)
    return None


if __name__ == "__main__":
    if "--http" in sys.argv:
        after = sys.argv[sys.argv.index("--http") + 1 :]
        port = int(after[0] if after and after[0].isdigit() else os.environ["PORT"])
        # == mcp.run("streamable-http", host=..., port=...); app = mcp.streamable_http_app() is the ASGI app
        anyio.run(lambda: mcp.run_streamable_http_async(host="127.0.0.1", port=port))
    else:
        mcp.run()  # stdio
