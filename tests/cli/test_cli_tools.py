"""Claude Code end to end: agent loops with real tools (Write, Bash, Read), reasoning round trips,
large files with count_tokens, and images read from disk.

Each mock script answers the loop's turns in order: the first request (tools, no tool messages)
gets the tool call(s), the follow-up (has_tool_messages) gets the final text.
"""
import base64
import json
import struct
import zlib

import pytest

from claude_runner import (CLI_USER, chat_requests, claude, cli_gateway, message_posts, requires_claude, sse_events,  # noqa: F401
                           tap)

pytestmark = requires_claude


def mock_fragments(text: str, count: int) -> list[str]:
    """How the mock splits tool arguments (testkit/mock_upstream.py `fragments`)."""
    step = -(-len(text) // count) if text else 1
    return [text[i:i + step] for i in range(0, len(text), step)]


def tool_turn(calls: list[dict], content=None, **extra) -> dict:
    reply = {"type": "chat", "content": content, "tool_calls": calls, **extra}
    return {"match": {"has_tools": True, "has_tool_messages": False}, "reply": reply}


def final_turn(content: str, **extra) -> dict:
    return {"match": {"has_tool_messages": True}, "reply": {"type": "chat", "content": content, **extra}}


def follow_up(mock) -> dict:
    """The second upstream request (the one carrying the tool results)."""
    reqs = chat_requests(mock.requests())
    assert len(reqs) == 2, [(r["rule"], len(r["body"]["messages"])) for r in reqs]
    return reqs[1]["body"]


def test_write_tool_with_arguments_in_many_fragments(claude, cli_gateway, mock, tap):
    gw = cli_gateway()
    proxy = tap(gw.base_url)
    target = claude.cwd / "hello.txt"
    content = "Hello from Switchyard!\nSecond line with \"quotes\", a tab\tand unicode: caf\u00e9 \u2713\n"
    arguments = json.dumps({"file_path": str(target), "content": content})
    mock.script([tool_turn([{"id": "call_write_1", "name": "Write", "arguments": arguments}], arg_fragments=8),
                 final_turn("Created hello.txt.")])

    run = claude.run(proxy.base_url, "Create hello.txt with a greeting.")

    assert not run.is_error and run.result_text == "Created hello.txt.", run.describe()
    assert target.read_text() == content
    uses = [b for b in run.assistant_blocks() if b["type"] == "tool_use"]
    assert [(u["id"], u["name"], u["input"]) for u in uses] == [("call_write_1", "Write", json.loads(arguments))]

    # the gateway streamed the arguments as input_json_delta fragments, exactly as the upstream split them
    first_answer = sse_events(message_posts(proxy)[0]["response_body"])
    deltas = [e["delta"]["partial_json"] for e in first_answer
              if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"]
    assert deltas == mock_fragments(arguments, 8) and len(deltas) == 8
    assert [e["type"] for e in first_answer][-2:] == ["message_delta", "message_stop"]
    assert first_answer[-2]["delta"]["stop_reason"] == "tool_use"

    body = follow_up(mock)
    assistant, tool = body["messages"][-2:]
    assert assistant["role"] == "assistant" and assistant["content"] is None
    assert [(c["id"], c["function"]["name"]) for c in assistant["tool_calls"]] == [("call_write_1", "Write")]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == json.loads(arguments)
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_write_1"
    assert "hello.txt" in tool["content"]


def test_two_parallel_tool_calls_in_one_turn(claude, cli_gateway, mock, tap):
    """Bash and Read in one assistant turn: both run, both results go back as tool messages right
    after the assistant message, in the order the CLI sent them, each matched to its scripted id."""
    gw = cli_gateway()
    proxy = tap(gw.base_url)
    notes = claude.cwd / "notes.txt"
    notes.write_text("alpha line\nbeta line\n")
    calls = [{"id": "call_bash_01", "name": "Bash", "arguments": json.dumps({"command": "echo hi", "description": "Say hi"})},
             {"id": "call_read_02", "name": "Read", "arguments": json.dumps({"file_path": str(notes)})}]
    mock.script([tool_turn(calls, content="Running both."), final_turn("Both tools ran.")])

    run = claude.run(proxy.base_url, "Run echo hi and read notes.txt.")

    assert not run.is_error and run.result_text == "Both tools ran.", run.describe()
    uses = [b for b in run.assistant_blocks() if b["type"] == "tool_use"]
    assert [u["id"] for u in uses] == ["call_bash_01", "call_read_02"]
    results = {r["tool_use_id"]: r for r in run.tool_results()}
    assert set(results) == {"call_bash_01", "call_read_02"}
    assert not any(r.get("is_error") for r in results.values()), results

    # the CLI's follow-up: one user turn with both tool_result blocks (in completion order)
    cli_turn = message_posts(proxy)[1]["body"]["messages"][-1]
    cli_order = [b["tool_use_id"] for b in cli_turn["content"] if b.get("type") == "tool_result"]
    assert sorted(cli_order) == ["call_bash_01", "call_read_02"]

    body = follow_up(mock)
    msgs = body["messages"]
    (a_index,) = [i for i, m in enumerate(msgs) if m["role"] == "assistant" and m.get("tool_calls")]
    assistant = msgs[a_index]
    assert assistant["content"] == "Running both."
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_bash_01", "call_read_02"]
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["Bash", "Read"]
    tools = msgs[a_index + 1:a_index + 3]
    assert [m["role"] for m in tools] == ["tool", "tool"], msgs[a_index + 1:]
    assert [m["tool_call_id"] for m in tools] == cli_order
    by_id = {m["tool_call_id"]: m["content"] for m in tools}
    assert by_id["call_bash_01"].startswith("hi")
    assert "alpha line" in by_id["call_read_02"] and "beta line" in by_id["call_read_02"]
    assert len(msgs) == a_index + 3 or msgs[a_index + 3]["role"] != "tool"


def test_reasoning_before_tool_call_and_text_is_sent_back(claude, cli_gateway, mock):
    """OpenRouter reasoning (+ signature) before a tool call, then before the final text: the CLI
    shows thinking blocks, and the next request carries the first turn's reasoning back upstream."""
    gw = cli_gateway(dialect="openrouter")
    thought_1 = "The user wants the date; I will run a command first."
    thought_2 = "The command printed a marker, so I can answer."
    mock.script([
        tool_turn([{"id": "call_bash_r1", "name": "Bash", "arguments": json.dumps({"command": "echo marker-42", "description": "Print marker"})}],
                  reasoning=thought_1, reasoning_signature="EqQBsig-turn-one"),
        final_turn("The marker is marker-42.", reasoning=thought_2, reasoning_signature="EqQBsig-turn-two"),
    ])

    run = claude.run(gw.base_url, "Run the marker command and tell me the result.")

    assert not run.is_error and run.result_text == "The marker is marker-42.", run.describe()
    blocks = [(b["type"], b.get("thinking") or b.get("text") or b.get("name"), b.get("signature"))
              for b in run.assistant_blocks()]
    assert blocks == [("thinking", thought_1, "EqQBsig-turn-one"), ("tool_use", "Bash", None),
                      ("thinking", thought_2, "EqQBsig-turn-two"), ("text", "The marker is marker-42.", None)]

    body = follow_up(mock)
    (assistant,) = [m for m in body["messages"] if m["role"] == "assistant"]
    assert assistant.get("reasoning") == thought_1, assistant
    details = assistant.get("reasoning_details")
    assert isinstance(details, list) and len(details) == 1, assistant
    assert details[0]["type"] == "reasoning.text" and details[0]["text"] == thought_1
    assert details[0]["signature"] == "EqQBsig-turn-one"
    assert details[0].get("format") == "anthropic-claude-v1"
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_bash_r1"]
    assert not assistant.get("content"), "thinking must never be copied into content"
    tool = body["messages"][body["messages"].index(assistant) + 1]
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_bash_r1" and tool["content"].startswith("marker-42")


@pytest.mark.parametrize("dialect", ["openrouter", "openai"])
def test_unsigned_reasoning_in_history(dialect, claude, cli_gateway, mock):
    """Reasoning without a signature becomes a thinking block with signature "" that the CLI sends
    back; the gateway accepts it. OpenRouter gets the text back as `reasoning` and never a detail
    with an empty signature; a generic OpenAI upstream gets no reasoning in history (spec §2.6)."""
    gw = cli_gateway(dialect=dialect)
    mock.script([
        tool_turn([{"id": "call_bash_u1", "name": "Bash", "arguments": json.dumps({"command": "echo unsigned", "description": "Echo"})}],
                  reasoning="An unsigned thought."),
        final_turn("Finished."),
    ])

    run = claude.run(gw.base_url, "Run the echo.")

    assert not run.is_error and run.result_text == "Finished.", run.describe()
    thinking = [b for b in run.assistant_blocks() if b["type"] == "thinking"]
    assert [(b["thinking"], b.get("signature")) for b in thinking] == [("An unsigned thought.", "")]
    (assistant,) = [m for m in follow_up(mock)["messages"] if m["role"] == "assistant"]
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_bash_u1"]
    assert not assistant.get("content")
    if dialect == "openrouter":
        assert assistant.get("reasoning") == "An unsigned thought.", assistant
        for detail in assistant.get("reasoning_details") or []:
            assert detail.get("signature", None) != "", detail
    else:
        assert "reasoning" not in assistant and "reasoning_details" not in assistant, assistant


@pytest.mark.parametrize("dialect,tool_id", [
    ("openrouter", "functions.Bash:0"),             # Kimi-style id: any non-empty id is accepted, kept as is
    ("openai", "call_" + "k" * 50),                 # over OpenAI's 40-char limit: shortened, pairs kept
], ids=["kimi-style-id", "long-id-openai"])
def test_upstream_tool_ids_round_trip(dialect, tool_id, claude, cli_gateway, mock):
    gw = cli_gateway(dialect=dialect)
    mock.script([tool_turn([{"id": tool_id, "name": "Bash", "arguments": json.dumps({"command": "echo ids", "description": "Echo"})}]),
                 final_turn("Ids are fine.")])

    run = claude.run(gw.base_url, "Run the echo.")

    assert not run.is_error and run.result_text == "Ids are fine.", run.describe()
    assert [b["id"] for b in run.assistant_blocks() if b["type"] == "tool_use"] == [tool_id]
    assert [r["tool_use_id"] for r in run.tool_results()] == [tool_id]
    msgs = follow_up(mock)["messages"]
    (assistant,) = [m for m in msgs if m["role"] == "assistant"]
    (tool,) = [m for m in msgs if m["role"] == "tool"]
    sent_id = assistant["tool_calls"][0]["id"]
    assert tool["tool_call_id"] == sent_id and tool["content"].startswith("ids")
    if dialect == "openrouter":
        assert sent_id == tool_id
    else:
        assert len(sent_id) <= 40, sent_id


def big_text(size: int) -> tuple[str, list[str]]:
    lines, total, i = [], 0, 0
    while total < size:
        line = f"line {i:06d}: the quick brown fox jumps over the lazy dog {i * 7 % 1000:03d}\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines), lines


def count_tokens_exchanges(proxy) -> list[dict]:
    return [e for e in proxy.exchanges if e["path"].split("?")[0] == "/v1/messages/count_tokens"]


def test_large_file_read_is_sized_by_count_tokens(claude, cli_gateway, mock, tap):
    """A ~200 KB file (under the Read tool's 256 KB limit but over its token cap): the CLI asks
    count_tokens (with its credential; tokens-mode gateway), and the gateway's estimate decides how
    much of the file the tool returns."""
    gw = cli_gateway(token_auth=True)
    proxy = tap(gw.base_url)
    text, lines = big_text(200_000)
    big = claude.cwd / "big.txt"
    big.write_text(text)
    mock.script([tool_turn([{"id": "call_read_big", "name": "Read", "arguments": json.dumps({"file_path": str(big)})}]),
                 final_turn("I read the big file.")])

    run = claude.run(proxy.base_url, "Read big.txt.")

    assert not run.is_error and run.result_text == "I read the big file.", run.describe()
    counts = count_tokens_exchanges(proxy)
    assert counts, f"the CLI did not call count_tokens: {[e['path'] for e in proxy.exchanges]}"
    for ex in counts:
        assert ex["status"] == 200, ex
        answer = ex["response_body"]["input_tokens"]
        request_bytes = len(json.dumps(ex["body"]).encode())
        # translation-spec §6: within a factor of 2 of utf8 bytes / 4
        assert request_bytes / 8 <= answer <= request_bytes / 2, (answer, request_bytes)
    logged = [e for e in gw.access_log() if e["endpoint"] == "count_tokens"]
    assert len(logged) == len(counts), gw.access_log()
    assert all(e["status"] == 200 and e["user"] == CLI_USER for e in logged), logged

    # the CLI trimmed the file to its token cap based on that estimate, and the run went on
    (result,) = [e["tool_use_result"] for e in run.of_type("user") if isinstance(e.get("tool_use_result"), dict)]
    shown, total = result["file"]["numLines"], result["file"]["totalLines"]
    assert 0 < shown < total, result["file"]
    tool = follow_up(mock)["messages"][-1]
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_read_big"
    assert lines[0].rstrip("\n") in tool["content"] and lines[shown - 1].rstrip("\n") in tool["content"]
    assert lines[-1].rstrip("\n") not in tool["content"]


def test_large_file_read_whole_with_allow_large(claude, cli_gateway, mock, tap):
    """A ~300 KB file read with allow_large: true: count_tokens says it fits, the whole file goes upstream."""
    gw = cli_gateway()
    proxy = tap(gw.base_url)
    text, lines = big_text(300_000)
    big = claude.cwd / "bigger.txt"
    big.write_text(text)
    args = json.dumps({"file_path": str(big), "allow_large": True})
    mock.script([tool_turn([{"id": "call_read_all", "name": "Read", "arguments": args}]),
                 final_turn("I read all of it.")])

    run = claude.run(proxy.base_url, "Read all of bigger.txt.")

    assert not run.is_error and run.result_text == "I read all of it.", run.describe()
    counts = count_tokens_exchanges(proxy)
    assert counts and all(e["status"] == 200 for e in counts), [e["path"] for e in proxy.exchanges]
    assert any(e["endpoint"] == "count_tokens" for e in gw.access_log())
    tool = follow_up(mock)["messages"][-1]
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_read_all"
    assert len(tool["content"]) > len(text)          # line numbers added by the Read tool
    assert lines[0].rstrip("\n") in tool["content"] and lines[-1].rstrip("\n") in tool["content"]


def png_bytes(width: int, height: int, rgb=(200, 30, 30)) -> bytes:
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_image_read_reaches_upstream_as_image_url(claude, cli_gateway, mock):
    """Read of a PNG: the CLI returns an image inside tool_result; upstream it must be an image_url
    data URL in a user message right after the tool message (tool messages carry text only)."""
    gw = cli_gateway()
    data = png_bytes(32, 24)
    image = claude.cwd / "red.png"
    image.write_bytes(data)
    mock.script([tool_turn([{"id": "call_read_img", "name": "Read", "arguments": json.dumps({"file_path": str(image)})}]),
                 final_turn("A red rectangle.")])

    run = claude.run(gw.base_url, "What is in red.png?")

    assert not run.is_error and run.result_text == "A red rectangle.", run.describe()
    (cli_result,) = run.tool_results()
    assert any(part.get("type") == "image" for part in cli_result["content"]), cli_result

    msgs = follow_up(mock)["messages"]
    (t_index,) = [i for i, m in enumerate(msgs) if m["role"] == "tool"]
    assert msgs[t_index]["tool_call_id"] == "call_read_img"
    assert isinstance(msgs[t_index]["content"], str) and "base64" not in msgs[t_index]["content"]
    user = msgs[t_index + 1]
    assert user["role"] == "user" and isinstance(user["content"], list), user
    images = [p for p in user["content"] if p.get("type") == "image_url"]
    assert len(images) == 1, user["content"]
    assert images[0]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(data).decode()
    texts = [p["text"] for p in user["content"] if p.get("type") == "text"]
    assert any("call_read_img" in t for t in texts), texts      # spec §2.4 label
