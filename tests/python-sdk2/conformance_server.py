"""An MCP server on the real `mcp` SDK (2.x) that provides what the MCP conformance suite's
SERVER scenarios expect (npm @modelcontextprotocol/conformance 0.2.0-alpha.12), for mcpgw's tests.

Usage:
  conformance_server.py [--http [PORT]]   (PORT: else $PORT)

  default     : dual-era (handshake 2024-11-05..2025-11-25 AND 2026-07-28) over stdio
  --http PORT : Streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio (uvicorn), to run the suite directly:
                node .../conformance/dist/index.js server --url http://127.0.0.1:PORT/mcp [--spec-version V]

Server->client input works in both eras:
  * framework-driven: `Resolve(...)` resolvers returning `Elicit` / `Sample` (test_elicitation,
    test_sampling, test_missing_capability): a mid-call request at <=2025-11-25, an
    InputRequiredResult at 2026-07-28;
  * hand-rolled (`ask_client` below), where the suite needs exact keys or exact schemas
    (test_input_required_result_*, the SEP-1034/SEP-1330 elicitations): the tool describes each
    round as {key: InputRequest}; at 2026-07-28 that becomes InputRequiredResult{inputRequests,
    requestState} (the SDK seals requestState, so a tampered one is rejected before the tool runs);
    at <=2025-11-25 the same requests are sent mid-call on the call's stream and the rounds loop.
"""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import sys
import warnings
import wave
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio
from pydantic import BaseModel, Field

from mcp import MCPError
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.mcpserver import (
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    Resolve,
    Sample,
)
from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.tools import Tool
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.message import ServerMessageMetadata
from mcp_types import (
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    AudioContent,
    CallToolResult,
    Completion,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    EmbeddedResource,
    EmptyResult,
    ImageContent,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    SamplingMessage,
    SetLevelRequestParams,
    SubscribeRequestParams,
    TextContent,
    TextResourceContents,
    UnsubscribeRequestParams,
)
from mcp_types.jsonrpc import JSONRPCMessage
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

# Logging, sampling and roots are deprecated at 2026-07-28 but are exactly what the
# handshake-era scenarios exercise.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)


# ---------------------------------------------------------------- media fixtures
def _png_1x1_red() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    idat = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _wav_silence() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8)
    return buf.getvalue()


PNG = _png_1x1_red()
PNG_B64 = base64.b64encode(PNG).decode()
WAV_B64 = base64.b64encode(_wav_silence()).decode()


def text_result(text: str, *, is_error: bool = False) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=is_error)


def is_modern(ctx: Context) -> bool:
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


# ---------------------------------------------------------------- tools built before the server
# Registered through the constructor so they come first in tools/list: http-header-validation
# calls tools[0] with `{}` (test_simple_text), and json_schema_2020_12_tool needs its inputSchema
# verbatim, which a function signature cannot produce.
def test_simple_text() -> CallToolResult:
    return text_result("This is a simple text response for testing.")


JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


def json_schema_2020_12_tool(
    name: str | None = None,
    address: dict[str, Any] | None = None,
    contactMethod: str | None = None,  # noqa: N803 - wire name
    phone: str | None = None,
    email: str | None = None,
) -> CallToolResult:
    args = {"name": name, "address": address, "contactMethod": contactMethod, "phone": phone, "email": email}
    args = {k: v for k, v in args.items() if v is not None}
    return text_result(f"JSON Schema 2020-12 tool called with: {json.dumps(args)}")


_json_schema_tool = Tool.from_function(
    json_schema_2020_12_tool,
    description="Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
)
# Arguments are still validated by the function's own (looser) model; only the listing changes.
_json_schema_tool = _json_schema_tool.model_copy(update={"parameters": JSON_SCHEMA_2020_12})

mcp = MCPServer(
    "mcp-conformance-test-server",
    version="1.0.0",
    instructions="conformance-suite fixture for mcpgw tests",
    tools=[
        Tool.from_function(test_simple_text, description="Tests simple text content response"),
        _json_schema_tool,
    ],
)

# Handshake era: also advertise listChanged (the 2026-07-28 discover derives it from
# subscriptions/listen on its own). The HTTP session manager and stdio both call this.
_create_init_options = mcp._lowlevel_server.create_initialization_options  # pyright: ignore[reportPrivateUsage]
mcp._lowlevel_server.create_initialization_options = lambda notification_options=None, *a, **kw: (  # pyright: ignore
    _create_init_options(
        notification_options or NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True),
        *a,
        **kw,
    )
)


# ---------------------------------------------------------------- content tools
@mcp.tool(description="Tests image content response")
def test_image_content() -> CallToolResult:
    return CallToolResult(content=[ImageContent(type="image", data=PNG_B64, mime_type="image/png")])


@mcp.tool(description="Tests audio content response")
def test_audio_content() -> CallToolResult:
    return CallToolResult(content=[AudioContent(type="audio", data=WAV_B64, mime_type="audio/wav")])


@mcp.tool(description="Tests embedded resource content response")
def test_embedded_resource() -> CallToolResult:
    resource = TextResourceContents(
        uri="test://embedded-resource", mime_type="text/plain", text="This is an embedded resource content."
    )
    return CallToolResult(content=[EmbeddedResource(type="resource", resource=resource)])


@mcp.tool(description="Tests response with multiple content types (text, image, resource)")
def test_multiple_content_types() -> CallToolResult:
    resource = TextResourceContents(
        uri="test://mixed-content-resource",
        mime_type="application/json",
        text=json.dumps({"test": "data", "value": 123}, separators=(",", ":")),
    )
    return CallToolResult(
        content=[
            TextContent(type="text", text="Multiple content types test:"),
            ImageContent(type="image", data=PNG_B64, mime_type="image/png"),
            EmbeddedResource(type="resource", resource=resource),
        ]
    )


@mcp.tool(description="Tests tool that emits log messages during execution")
async def test_tool_with_logging(ctx: Context) -> CallToolResult:
    # Request-related notifications/message (on the call's stream). At 2026-07-28 the SDK
    # only delivers them when the request opted in with a log level.
    await ctx.info("Tool execution started")
    await anyio.sleep(0.05)
    await ctx.info("Tool processing data")
    await anyio.sleep(0.05)
    await ctx.info("Tool execution completed")
    return text_result("Tool with logging executed successfully")


@mcp.tool(description="Tests tool that reports progress notifications")
async def test_tool_with_progress(ctx: Context) -> CallToolResult:
    # The SDK sends these on the caller's progressToken (none sent when it gave no token).
    for step in (0, 50, 100):
        await ctx.report_progress(step, 100, f"Completed step {step} of 100")
        if step < 100:
            await anyio.sleep(0.05)
    return text_result("Progress tool completed")


@mcp.tool(description="Tests error response handling")
def test_error_handling() -> CallToolResult:
    # A tool-level failure: a result with isError, not a JSON-RPC error.
    return text_result("This tool intentionally returns an error for testing", is_error=True)


@mcp.tool(
    description="Tests SSE stream disconnection and client reconnection (SEP-1699): closes the call's SSE "
    "stream mid-call; the result is delivered when the client reconnects with Last-Event-ID"
)
async def test_reconnection(ctx: Context) -> CallToolResult:
    await ctx.close_sse_stream()  # no-op without an event store (stdio, 2026-07-28)
    await anyio.sleep(0.1)
    return text_result(
        "Reconnection test completed successfully. If you received this, "
        "the client properly reconnected after stream closure."
    )


# ---------------------------------------------------------------- framework-driven sampling / elicitation
def ask_llm(prompt: str) -> Sample:
    # <=2025-11-25: a sampling/createMessage on the call's stream; 2026-07-28: an input request.
    return Sample([SamplingMessage(role="user", content=TextContent(type="text", text=prompt))], max_tokens=100)


def _sampled_text(reply: CreateMessageResult) -> str:
    content = reply.content
    return getattr(content, "text", None) or json.dumps(content.model_dump(mode="json", by_alias=True))


@mcp.tool(description="Tests server-initiated sampling (LLM completion request)")
def test_sampling(
    prompt: Annotated[str, Field(description="The prompt to send to the LLM")],
    reply: Annotated[CreateMessageResult, Resolve(ask_llm)],
) -> CallToolResult:
    return text_result(f"LLM response: {_sampled_text(reply)}")


class UserInfo(BaseModel):
    username: str = Field(description="User's response")
    email: str = Field(description="User's email address")


def ask_user_info(message: str) -> Elicit[UserInfo]:
    return Elicit(message, UserInfo)


@mcp.tool(description="Tests server-initiated elicitation (user input request)")
def test_elicitation(
    message: Annotated[str, Field(description="The message to show the user")],
    info: Annotated[ElicitationResult[UserInfo], Resolve(ask_user_info)],
) -> CallToolResult:
    content = info.data.model_dump() if info.action == "accept" else None
    return text_result(f"User response: action={info.action}, content={json.dumps(content)}")


def needs_sampling() -> Sample:
    return Sample(
        [SamplingMessage(role="user", content=TextContent(type="text", text="Say hello"))], max_tokens=20
    )


@mcp.tool(
    description="Needs the client's sampling capability: without it the call fails with -32021 "
    "(missing required client capability, requiredCapabilities.sampling)"
)
def test_missing_capability(reply: Annotated[CreateMessageResult, Resolve(needs_sampling)]) -> CallToolResult:
    # The SDK's resolver raises -32021 {requiredCapabilities:{sampling:{}}} before asking
    # when the client did not declare sampling (HTTP 400 at 2026-07-28).
    return text_result(f"Success: {_sampled_text(reply)}")


# ---------------------------------------------------------------- hand-rolled input rounds (both eras)
@dataclass
class Ask:
    """One round's questions: {key: InputRequest}, plus the state to get back next round."""

    requests: dict[str, ElicitRequest | CreateMessageRequest | ListRootsRequest]
    state: dict[str, Any] | None = None


Step = Callable[[dict[str, Any] | None, dict[str, Any]], Any]  # (state, answers) -> Ask | final value

_RESULT_TYPES: dict[str, type[BaseModel]] = {
    "elicitation/create": ElicitResult,
    "sampling/createMessage": CreateMessageResult,
    "roots/list": ListRootsResult,
}
_CAPABILITY: dict[str, str] = {
    "elicitation/create": "elicitation",
    "sampling/createMessage": "sampling",
    "roots/list": "roots",
}


def declared(ctx: Context, capability: str) -> bool:
    caps = ctx.client_capabilities
    return caps is not None and getattr(caps, capability, None) is not None


def require_capabilities(ctx: Context, methods: list[str]) -> None:
    missing = sorted({_CAPABILITY[m] for m in methods if not declared(ctx, _CAPABILITY[m])})
    if missing:
        raise MCPError(
            code=MISSING_REQUIRED_CLIENT_CAPABILITY,
            message=f"Client did not declare the required capabilities: {', '.join(missing)}",
            data={"requiredCapabilities": {name: {} for name in missing}},
        )


async def ask_client(ctx: Context, step: Step, max_rounds: int = 5) -> Any:
    """Drive `step` to completion in the connection's era (see the module docstring).

    Returns the step's final value, or (2026-07-28) an InputRequiredResult for this round.
    """
    if is_modern(ctx):
        state = json.loads(ctx.request_state) if ctx.request_state else None
        outcome = await _run_step(step, state, dict(ctx.input_responses or {}))
        if not isinstance(outcome, Ask):
            return outcome
        require_capabilities(ctx, [r.method for r in outcome.requests.values()])
        return InputRequiredResult(
            input_requests=outcome.requests,
            request_state=json.dumps(outcome.state) if outcome.state is not None else None,
        )
    state, answers = None, {}
    for _ in range(max_rounds):
        outcome = await _run_step(step, state, answers)
        if not isinstance(outcome, Ask):
            return outcome
        require_capabilities(ctx, [r.method for r in outcome.requests.values()])
        answers = {}
        for key, request in outcome.requests.items():
            answers[key] = await ctx.session.send_request(
                request,
                _RESULT_TYPES[request.method],
                metadata=ServerMessageMetadata(related_request_id=ctx.request_context.request_id),
            )
        state = outcome.state
    raise MCPError(code=-32603, message="input rounds did not converge")


async def _run_step(step: Step, state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
    result = step(state, answers)
    return await result if isinstance(result, Awaitable) else result


def elicit(message: str, properties: dict[str, Any], required: list[str] | None = None) -> ElicitRequest:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        schema["required"] = required
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


def sample(text: str, max_tokens: int) -> CreateMessageRequest:
    return CreateMessageRequest(
        params=CreateMessageRequestParams(
            messages=[SamplingMessage(role="user", content=TextContent(type="text", text=text))],
            max_tokens=max_tokens,
        )
    )


def accepted(answer: Any) -> dict[str, Any] | None:
    """The content of an accepted elicitation answer, else None."""
    if isinstance(answer, ElicitResult) and answer.action == "accept":
        return dict(answer.content or {})
    return None


def elicit_outcome(answer: ElicitResult) -> str:
    return f"action={answer.action}, content={json.dumps(answer.content)}"


SEP1034_SCHEMA: dict[str, Any] = {
    "name": {"type": "string", "description": "User name", "default": "John Doe"},
    "age": {"type": "integer", "description": "User age", "default": 30},
    "score": {"type": "number", "description": "User score", "default": 95.5},
    "status": {
        "type": "string",
        "description": "User status",
        "enum": ["active", "inactive", "pending"],
        "default": "active",
    },
    "verified": {"type": "boolean", "description": "Verification status", "default": True},
}

SEP1330_SCHEMA: dict[str, Any] = {
    "untitledSingle": {
        "type": "string",
        "description": "Select one option",
        "enum": ["option1", "option2", "option3"],
    },
    "titledSingle": {
        "type": "string",
        "description": "Select one option with titles",
        "oneOf": [
            {"const": "value1", "title": "First Option"},
            {"const": "value2", "title": "Second Option"},
            {"const": "value3", "title": "Third Option"},
        ],
    },
    "legacyEnum": {
        "type": "string",
        "description": "Select one option (legacy)",
        "enum": ["opt1", "opt2", "opt3"],
        "enumNames": ["Option One", "Option Two", "Option Three"],
    },
    "untitledMulti": {
        "type": "array",
        "description": "Select multiple options",
        "minItems": 1,
        "maxItems": 3,
        "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
    },
    "titledMulti": {
        "type": "array",
        "description": "Select multiple options with titles",
        "minItems": 1,
        "maxItems": 3,
        "items": {
            "anyOf": [
                {"const": "value1", "title": "First Choice"},
                {"const": "value2", "title": "Second Choice"},
                {"const": "value3", "title": "Third Choice"},
            ]
        },
    },
}


def _one_form(message: str, properties: dict[str, Any]) -> Step:
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        answer = answers.get("form")
        if not isinstance(answer, ElicitResult):
            return Ask({"form": elicit(message, properties, required=[])})
        return text_result(f"Elicitation completed: {elicit_outcome(answer)}")

    return step


@mcp.tool(description="Tests elicitation with default values per SEP-1034")
async def test_elicitation_sep1034_defaults(ctx: Context) -> CallToolResult | InputRequiredResult:
    return await ask_client(
        ctx, _one_form("Please review and update the form fields with defaults", SEP1034_SCHEMA)
    )


@mcp.tool(description="Tests elicitation with enum schema improvements per SEP-1330")
async def test_elicitation_sep1330_enums(ctx: Context) -> CallToolResult | InputRequiredResult:
    return await ask_client(ctx, _one_form("Please select options from the enum fields", SEP1330_SCHEMA))


NAME_QUESTION = ("What is your name?", {"name": {"type": "string"}}, ["name"])


@mcp.tool(description="SEP-2322: asks for the user's name (input key `user_name`), then greets them")
async def test_input_required_result_elicitation(ctx: Context) -> CallToolResult | InputRequiredResult:
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        content = accepted(answers.get("user_name"))
        if content is None or not isinstance(content.get("name"), str):
            return Ask({"user_name": elicit(*NAME_QUESTION)})
        return text_result(f"Hello, {content['name']}!")

    return await ask_client(ctx, step)


@mcp.tool(description="SEP-2322: asks the client's LLM a question (sampling), then reports the answer")
async def test_input_required_result_sampling(ctx: Context) -> CallToolResult | InputRequiredResult:
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        answer = answers.get("capital_question")
        if not isinstance(answer, CreateMessageResult):
            return Ask({"capital_question": sample("What is the capital of France?", 100)})
        return text_result(f"Sampling result: {_sampled_text(answer)}")

    return await ask_client(ctx, step)


@mcp.tool(description="SEP-2322: asks for the client's roots (roots/list), then counts them")
async def test_input_required_result_list_roots(ctx: Context) -> CallToolResult | InputRequiredResult:
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        answer = answers.get("client_roots")
        if not isinstance(answer, ListRootsResult):
            return Ask({"client_roots": ListRootsRequest()})
        uris = ", ".join(str(r.uri) for r in answer.roots)
        return text_result(f"Found {len(answer.roots)} root(s): {uris}")

    return await ask_client(ctx, step)


@mcp.tool(description="SEP-2322: asks for a confirmation with a requestState that must come back")
async def test_input_required_result_request_state(ctx: Context) -> CallToolResult | InputRequiredResult:
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        confirm = accepted(answers.get("confirm"))
        if state is None or state.get("kind") != "request-state" or confirm is None:
            return Ask(
                {"confirm": elicit("Please confirm", {"ok": {"type": "boolean"}}, ["ok"])},
                state={"kind": "request-state", "nonce": os.urandom(8).hex()},
            )
        return text_result(f"state-ok: requestState validated (ok={confirm.get('ok')})")

    return await ask_client(ctx, step)


@mcp.tool(description="SEP-2322: asks for elicitation, sampling and roots in one round")
async def test_input_required_result_multiple_inputs(ctx: Context) -> CallToolResult | InputRequiredResult:
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        name = accepted(answers.get("user_name"))
        greeting = answers.get("greeting")
        roots = answers.get("client_roots")
        if (
            state is None
            or name is None
            or not isinstance(greeting, CreateMessageResult)
            or not isinstance(roots, ListRootsResult)
        ):
            return Ask(
                {
                    "user_name": elicit(*NAME_QUESTION),
                    "greeting": sample("Generate a greeting", 50),
                    "client_roots": ListRootsRequest(),
                },
                state={"kind": "multiple-inputs"},
            )
        return text_result(
            f"multiple-inputs-ok: name={name.get('name')}, greeting={_sampled_text(greeting)}, "
            f"roots={len(roots.roots)}"
        )

    return await ask_client(ctx, step)


@mcp.tool(description="SEP-2322: two rounds of questions, each with its own requestState")
async def test_input_required_result_multi_round(ctx: Context) -> CallToolResult | InputRequiredResult:
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        if state is not None and state.get("round") == 2:
            color = accepted(answers.get("step2"))
            if color is not None:
                return text_result(f"Multi-round complete for {state['name']} who likes {color.get('color')}")
            return Ask({"step2": elicit("Step 2: What is your favorite color?", {"color": {"type": "string"}}, ["color"])}, state)
        if state is not None and state.get("round") == 1:
            name = accepted(answers.get("step1"))
            if name is not None:
                return Ask(
                    {"step2": elicit("Step 2: What is your favorite color?", {"color": {"type": "string"}}, ["color"])},
                    state={"round": 2, "name": name.get("name")},
                )
        return Ask({"step1": elicit("Step 1: What is your name?", {"name": {"type": "string"}}, ["name"])}, {"round": 1})

    return await ask_client(ctx, step)


@mcp.tool(description="SEP-2322: integrity-protected requestState; a tampered one is rejected")
async def test_input_required_result_tampered_state(ctx: Context) -> CallToolResult | InputRequiredResult:
    # The SDK seals requestState (AES-GCM, RequestStateBoundary) and answers a modified token
    # with a JSON-RPC error before this body runs.
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        if state is None or state.get("kind") != "tampered-state" or accepted(answers.get("confirm")) is None:
            return Ask(
                {"confirm": elicit("Please confirm", {"ok": {"type": "boolean"}}, ["ok"])},
                state={"kind": "tampered-state"},
            )
        return text_result("integrity-ok: state verified")

    return await ask_client(ctx, step)


@mcp.tool(description="SEP-2322: asks only for the inputs whose capabilities the client declared")
async def test_input_required_result_capabilities(ctx: Context) -> CallToolResult | InputRequiredResult:
    offer: dict[str, Any] = {}
    if declared(ctx, "elicitation"):
        offer["elicit_input"] = elicit(*NAME_QUESTION)
    if declared(ctx, "sampling"):
        offer["sample_input"] = sample("Say something", 50)
    if declared(ctx, "roots"):
        offer["roots_input"] = ListRootsRequest()
    if not offer:
        raise MCPError(
            code=MISSING_REQUIRED_CLIENT_CAPABILITY,
            message="Client declared none of elicitation, sampling, roots",
            data={"requiredCapabilities": {"elicitation": {}}},
        )

    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        received = sorted(k for k in answers if k in offer)
        if not received:
            return Ask(offer)
        return text_result(f"capabilities-ok: received {', '.join(received)}")

    return await ask_client(ctx, step)


@mcp.tool(
    description="Elicitation done right on a streaming response: progress (if requested) on the stream, "
    "the question as an input request (2026-07-28) or mid-call request (earlier), never an independent "
    "request on a 2026-07-28 response stream"
)
async def test_streaming_elicitation(ctx: Context) -> CallToolResult | InputRequiredResult:
    async def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        content = accepted(answers.get("confirm"))
        if content is None:
            await ctx.report_progress(0, 1, "waiting for confirmation")
            return Ask({"confirm": elicit("Continue?", {"ok": {"type": "boolean"}}, ["ok"])})
        await ctx.report_progress(1, 1, "confirmed")
        return text_result("Streaming complete")

    return await ask_client(ctx, step)


@mcp.tool(description="Logs one message; at 2026-07-28 it reaches the client only if the request set a log level")
async def test_logging_tool(ctx: Context) -> CallToolResult:
    await ctx.info("test_logging_tool ran")  # the SDK enforces the per-request opt-in
    return text_result("Logging evaluated")


# ---------------------------------------------------------------- list changes
def test_dynamic_tool() -> CallToolResult:
    return text_result("dynamic tool called")


def test_dynamic_prompt() -> str:
    return "This prompt is toggled by test_trigger_prompt_change."


@mcp.tool(description="Toggles the tool test_dynamic_tool and sends notifications/tools/list_changed")
async def test_trigger_tool_change(ctx: Context) -> CallToolResult:
    if "test_dynamic_tool" in [t.name for t in await mcp.list_tools()]:
        mcp.remove_tool("test_dynamic_tool")
    else:
        mcp.add_tool(test_dynamic_tool, description="Added and removed by test_trigger_tool_change")
    if is_modern(ctx):
        await ctx.notify_tools_changed()  # subscriptions/listen streams
    else:
        await ctx.session.send_tool_list_changed()  # the session's standalone (GET) stream
    return text_result("Mutation triggered")


@mcp.tool(description="Toggles the prompt test_dynamic_prompt and sends notifications/prompts/list_changed")
async def test_trigger_prompt_change(ctx: Context) -> CallToolResult:
    if "test_dynamic_prompt" in [p.name for p in await mcp.list_prompts()]:
        mcp.remove_prompt("test_dynamic_prompt")
    else:
        mcp.add_prompt(
            Prompt.from_function(test_dynamic_prompt, description="Added and removed by test_trigger_prompt_change")
        )
    if is_modern(ctx):
        await ctx.notify_prompts_changed()
    else:
        await ctx.session.send_prompt_list_changed()
    return text_result("Mutation triggered")


@mcp.tool(description="Echoes a region that is also sent as the Mcp-Param-Region header (SEP-2243)")
def test_custom_header(
    region: Annotated[str, Field(description="Region", json_schema_extra={"x-mcp-header": "Region"})],
) -> CallToolResult:
    return text_result(f"region={region}")


# ---------------------------------------------------------------- resources
@mcp.resource(
    "test://static-text",
    name="static-text",
    title="Static Text Resource",
    description="A static text resource for testing",
    mime_type="text/plain",
)
def static_text() -> str:
    return "This is the content of the static text resource."


@mcp.resource(
    "test://static-binary",
    name="static-binary",
    title="Static Binary Resource",
    description="A static binary resource (image) for testing",
    mime_type="image/png",
)
def static_binary() -> bytes:
    return PNG


@mcp.resource(
    "test://watched-resource",
    name="watched-resource",
    title="Watched Resource",
    description="A resource clients may subscribe to (resources/subscribe)",
    mime_type="text/plain",
)
def watched_resource() -> str:
    return "Watched resource content"


@mcp.resource(
    "test://stateless-static-text",
    name="stateless-static-text",
    title="Stateless Static Text Resource",
    description="A static text resource for the 2026-07-28 (stateless) scenarios",
    mime_type="text/plain",
)
def stateless_static_text() -> str:
    return "Static text content from the stateless draft path."


@mcp.resource(
    "test://template/{id}/data",
    name="template",
    title="Resource Template",
    description="A resource template with parameter substitution",
    mime_type="application/json",
)
def template_data(id: str) -> str:  # noqa: A002 - the template variable's name
    return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})


# An unknown URI: the SDK answers -32602 with data {uri} (SEP-2164).

# resources/subscribe + unsubscribe (handshake era; removed at 2026-07-28, where the SDK answers
# 404/-32601). MCPServer has no decorator for them, so they go on the low-level server.
SUBSCRIPTIONS: set[str] = set()


async def on_subscribe(ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
    SUBSCRIPTIONS.add(str(params.uri))
    return EmptyResult()


async def on_unsubscribe(ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
    SUBSCRIPTIONS.discard(str(params.uri))
    return EmptyResult()


async def on_set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
    return EmptyResult()  # the result must be exactly {}


_lowlevel = mcp._lowlevel_server  # pyright: ignore[reportPrivateUsage]
_lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, on_subscribe)
_lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, on_unsubscribe)
_lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, on_set_level)


# ---------------------------------------------------------------- prompts
@mcp.prompt(title="Simple Test Prompt", description="A simple prompt without arguments")
def test_simple_prompt() -> str:
    return "This is a simple prompt for testing."


@mcp.prompt(title="Prompt With Arguments", description="A prompt with required arguments")
def test_prompt_with_arguments(
    arg1: Annotated[str, Field(description="First test argument")],
    arg2: Annotated[str, Field(description="Second test argument")],
) -> str:
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@mcp.prompt(title="Prompt With Embedded Resource", description="A prompt that includes an embedded resource")
def test_prompt_with_embedded_resource(
    resourceUri: Annotated[str, Field(description="URI of the resource to embed")],  # noqa: N803 - wire name
) -> list[Any]:
    resource = TextResourceContents(
        uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
    )
    return [
        {"role": "user", "content": EmbeddedResource(type="resource", resource=resource)},
        {"role": "user", "content": TextContent(type="text", text="Please process the embedded resource above.")},
    ]


@mcp.prompt(title="Prompt With Image", description="A prompt that includes image content")
def test_prompt_with_image() -> list[Any]:
    return [
        {"role": "user", "content": ImageContent(type="image", data=PNG_B64, mime_type="image/png")},
        {"role": "user", "content": TextContent(type="text", text="Please analyze the image above.")},
    ]


@mcp.prompt(description="SEP-2322 on prompts/get: asks for context (input key `user_context`) first")
async def test_input_required_result_prompt(ctx: Context) -> Any:
    def step(state: dict[str, Any] | None, answers: dict[str, Any]) -> Any:
        content = accepted(answers.get("user_context"))
        if content is None:
            return Ask(
                {
                    "user_context": elicit(
                        "What context should the prompt use?", {"context": {"type": "string"}}, ["context"]
                    )
                }
            )
        return f"Prompt with context: {content.get('context')}"

    return await ask_client(ctx, step)


# ---------------------------------------------------------------- completion
COMPLETIONS: dict[str, list[str]] = {
    "arg1": ["test", "testValue1", "other1"],
    "arg2": ["test", "testValue2", "other2"],
    "id": ["1", "123", "42"],
}


@mcp.completion()
async def complete(ref: Any, argument: Any, context: Any) -> Completion:
    values = [v for v in COMPLETIONS.get(argument.name, []) if v.startswith(argument.value)]
    return Completion(values=values, total=len(values), has_more=False)


# ---------------------------------------------------------------- HTTP resumability (server-sse-polling)
class MemoryEventStore(EventStore):
    """Keeps every SSE event so a client can resume a closed stream with Last-Event-ID."""

    def __init__(self) -> None:
        self._events: list[tuple[EventId, StreamId, JSONRPCMessage | None]] = []

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = str(len(self._events) + 1)
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        index = next((i for i, (eid, _, _) in enumerate(self._events) if eid == last_event_id), None)
        if index is None:
            return None
        stream_id = self._events[index][1]
        for event_id, sid, message in self._events[index + 1 :]:
            if sid == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


if __name__ == "__main__":
    if "--http" in sys.argv:
        after = sys.argv[sys.argv.index("--http") + 1 :]
        port = int(after[0] if after and after[0].isdigit() else os.environ["PORT"])
        anyio.run(
            lambda: mcp.run_streamable_http_async(
                host="127.0.0.1", port=port, event_store=MemoryEventStore(), retry_interval=1000
            )
        )
    else:
        mcp.run()  # stdio
