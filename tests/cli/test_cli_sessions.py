"""Claude Code end to end: `--continue` and `--resume <session_id>` replay the history through the gateway."""
from claude_runner import chat_requests, claude, cli_gateway, conversation_text, requires_claude  # noqa: F401

pytestmark = requires_claude


def answer(mock, text: str) -> None:
    mock.script({"match": {"stream": True}, "times": -1, "reply": {"type": "chat", "content": text}})


def only_request(mock) -> dict:
    reqs = chat_requests(mock.requests())
    assert len(reqs) == 1, len(reqs)
    return reqs[0]["body"]


def turns(body: dict) -> list[tuple[str, str]]:
    """(role, text) of the non-system messages."""
    out = []
    for m in body["messages"]:
        if m["role"] == "system":
            continue
        content = m.get("content")
        text = content if isinstance(content, str) else "\n".join(
            p.get("text", "") for p in content or [] if isinstance(p, dict))
        out.append((m["role"], text))
    return out


def test_continue_carries_history(claude, cli_gateway, mock):
    gw = cli_gateway()
    answer(mock, "Noted: the word is PINEAPPLE.")
    first = claude.run(gw.base_url, "Remember the secret word PINEAPPLE.")
    assert not first.is_error and first.result_text == "Noted: the word is PINEAPPLE.", first.describe()
    assert len(turns(only_request(mock))) == 1

    mock.reset()
    answer(mock, "The word was PINEAPPLE.")
    second = claude.run(gw.base_url, "Which word did I ask you to remember?", extra_args=["--continue"])

    assert not second.is_error and second.result_text == "The word was PINEAPPLE.", second.describe()
    assert second.session_id == first.session_id
    history = turns(only_request(mock))
    assert [role for role, _ in history] == ["user", "assistant", "user"], history
    assert "Remember the secret word PINEAPPLE." in history[0][1]
    assert history[1][1] == "Noted: the word is PINEAPPLE."
    assert "Which word did I ask you to remember?" in history[2][1]


def test_resume_by_session_id_carries_that_history(claude, cli_gateway, mock):
    """Two separate sessions, then --resume the first one: only the first exchange is replayed."""
    gw = cli_gateway()
    answer(mock, "Stored MANGO.")
    session_a = claude.run(gw.base_url, "Remember MANGO.")
    mock.reset()
    answer(mock, "Stored KIWI.")
    session_b = claude.run(gw.base_url, "Remember KIWI.")
    assert not session_a.is_error and not session_b.is_error, session_a.describe() + session_b.describe()
    assert session_a.session_id and session_a.session_id != session_b.session_id

    mock.reset()
    answer(mock, "You said MANGO.")
    resumed = claude.run(gw.base_url, "What did I say?", extra_args=["--resume", session_a.session_id])

    assert not resumed.is_error and resumed.result_text == "You said MANGO.", resumed.describe()
    assert resumed.session_id == session_a.session_id
    body = only_request(mock)
    history = turns(body)
    assert [role for role, _ in history] == ["user", "assistant", "user"], history
    assert "Remember MANGO." in history[0][1] and history[1][1] == "Stored MANGO."
    assert "What did I say?" in history[2][1]
    everything = conversation_text(body)
    assert "KIWI" not in everything
