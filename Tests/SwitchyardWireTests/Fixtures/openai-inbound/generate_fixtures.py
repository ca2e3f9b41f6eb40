#!/usr/bin/env python3
"""Writes the golden fixtures for the reverse direction (OpenAI Chat Completions client -> Anthropic Messages
upstream) into the case directories next to this script.

Every expected value below is written out by hand from shared/docs/translation-spec.md §7 and, where §7 leaves a
choice, docs/openai-front-door.md ("To a `kind: anthropic` target"). Nothing here runs or imitates a translator:
the helpers only wrap hand-written payloads in their envelopes (chunk id/object/created/model, SSE framing).
Token sums in expected usage are written as literals.

Case name prefixes: R = request, E = request_error, P = response (non-streamed), S = stream.
Re-run: python3 generate_fixtures.py   (deletes and rewrites every [REPS]NN-* directory in this folder)
"""
import json
import os
import re
import shutil

ROOT = os.path.dirname(os.path.abspath(__file__))
UP = "claude-target-model"       # the target's model (request kinds)
CLIENT = "gpt-client"            # what the client asked for (response/stream kinds)
CREATED = 1700000000
ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929"  # what the upstream reports; never echoed to the client

CASES = []


def opts(cap=None, reasoning=False):
    return {"max_tokens_cap": cap, "reasoning_content": reasoning}


def add(name, kind, description, files, options=None, include_usage=None):
    meta = {"description": description, "kind": kind}
    if kind in ("request", "request_error"):
        meta["upstream_model"] = UP
    else:
        meta["client_model"] = CLIENT
        meta["created"] = CREATED
    meta["options"] = options if options is not None else opts()
    if kind == "stream":
        meta["include_usage"] = bool(include_usage)
    CASES.append((name, meta, files))


def req(name, description, chat, anthropic, options=None):
    add(name, "request", description, {"chat.request.json": chat, "anthropic.request.json": anthropic}, options)


def req_err(name, description, chat, contains):
    add(name, "request_error", description,
        {"chat.request.json": chat, "error.json": {"status": 400, "message_contains": contains}})


def resp(name, description, anthropic, chat, options=None):
    add(name, "response", description, {"anthropic.response.json": anthropic, "chat.response.json": chat}, options)


def cj(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


def T(text):  # an Anthropic text block
    return {"type": "text", "text": text}


def user(*blocks):
    return {"role": "user", "content": list(blocks)}


def asst(*blocks):
    return {"role": "assistant", "content": list(blocks)}


# ---------------------------------------------------------------- shared tool definitions
WEATHER_PARAMS = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                  "required": ["city"]}
CHAT_WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Get the current weather for a city.",
                                                 "parameters": WEATHER_PARAMS}}
ANTH_WEATHER = {"name": "get_weather", "description": "Get the current weather for a city.", "input_schema": WEATHER_PARAMS}
READ_PARAMS = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
CHAT_READ = {"type": "function", "function": {"name": "read_file", "description": "Read a text file.", "parameters": READ_PARAMS}}
ANTH_READ = {"name": "read_file", "description": "Read a text file.", "input_schema": READ_PARAMS}
HI = [{"role": "user", "content": "Hi"}]
HI_A = [user(T("Hi"))]


def call(id_, name, arguments):
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


# =====================================================================================
# R: requests (chat.request.json -> anthropic.request.json)
# =====================================================================================
REQ = "§7 Request; openai-front-door.md 'To a kind: anthropic target', Request"

req("R01-plain-user-string",
    f"{REQ}: a plain user string becomes an array with one text block; model is the target's; no max given → max_tokens 4096; no system key when there are no system messages.",
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]},
    {"model": UP, "max_tokens": 4096, "messages": [user(T("Hello"))]})

req("R02-system-and-developer",
    f"{REQ}: system (string) and developer (text parts, one empty → skipped) messages become system text blocks in order; a later system message in mid-conversation is hoisted to the end of the system array; the remaining turns keep their order.",
    {"model": "gpt-4o", "max_tokens": 256, "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "developer", "content": [{"type": "text", "text": "Rule one."}, {"type": "text", "text": ""}, {"type": "text", "text": "Rule two."}]},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "system", "content": "From now on, answer in French."},
        {"role": "user", "content": "What is the capital of Italy?"}]},
    {"model": UP, "max_tokens": 256,
     "system": [T("You are a helpful assistant."), T("Rule one."), T("Rule two."), T("From now on, answer in French.")],
     "messages": [user(T("Hi")), asst(T("Hello! How can I help?")), user(T("What is the capital of Italy?"))]})

req("R03-mid-system-between-users-merged",
    f"{REQ}: a developer message between two user messages is hoisted to system, and the two user messages it separated are then consecutive and merge into one user turn.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": [
        {"role": "user", "content": "First question."},
        {"role": "developer", "content": "Be concise."},
        {"role": "user", "content": "Second question."}]},
    {"model": UP, "max_tokens": 100, "system": [T("Be concise.")],
     "messages": [user(T("First question."), T("Second question."))]})

req("R04-user-text-parts",
    f"{REQ}: user text parts become one text block each; the message `name` is dropped.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": [
        {"role": "user", "name": "alice", "content": [{"type": "text", "text": "Part one."}, {"type": "text", "text": "Part two."}]}]},
    {"model": UP, "max_tokens": 100, "messages": [user(T("Part one."), T("Part two."))]})

req("R05-images-data-url-and-http",
    f"{REQ}: image_url with data:<type>;base64 → image base64 source (detail dropped); https and http URLs → image url source.",
    {"model": "gpt-4o", "max_tokens": 300, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Compare these images."},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        {"type": "image_url", "image_url": {"url": "http://images.example.org/dog.webp", "detail": "low"}}]}]},
    {"model": UP, "max_tokens": 300, "messages": [user(
        T("Compare these images."),
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgoAAAANSUhEUg=="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "image", "source": {"type": "url", "url": "http://images.example.org/dog.webp"}})]})

req("R06-pdf-file-data",
    f"{REQ}: a file part with file_data data:application/pdf;base64 → document with a base64 source (filename not carried: the doc maps only the data).",
    {"model": "gpt-4o", "max_tokens": 500, "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"filename": "report.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQKJcfsj6IK"}},
        {"type": "text", "text": "Summarize this report."}]}]},
    {"model": UP, "max_tokens": 500, "messages": [user(
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQKJcfsj6IK"}},
        T("Summarize this report."))]})

req("R07-tool-calls-results-and-user-one-turn",
    f"{REQ}: assistant text + two tool_calls → text + two tool_use (arguments parsed); two tool messages and the user message right after them form ONE user turn: tool_result blocks first (string content kept as a string), then the user text.",
    {"model": "gpt-4o", "max_tokens": 1024, "tools": [CHAT_WEATHER], "messages": [
        {"role": "user", "content": "What's the weather in Paris and Rome?"},
        {"role": "assistant", "content": "Checking both cities.", "tool_calls": [
            call("call_paris", "get_weather", "{\"city\":\"Paris\"}"),
            call("call_rome", "get_weather", "{\"city\": \"Rome\", \"unit\": \"celsius\"}")]},
        {"role": "tool", "tool_call_id": "call_paris", "content": "18°C, sunny"},
        {"role": "tool", "tool_call_id": "call_rome", "content": "22°C, cloudy"},
        {"role": "user", "content": "And tomorrow?"}]},
    {"model": UP, "max_tokens": 1024, "tools": [ANTH_WEATHER], "messages": [
        user(T("What's the weather in Paris and Rome?")),
        asst(T("Checking both cities."),
             {"type": "tool_use", "id": "call_paris", "name": "get_weather", "input": {"city": "Paris"}},
             {"type": "tool_use", "id": "call_rome", "name": "get_weather", "input": {"city": "Rome", "unit": "celsius"}}),
        user({"type": "tool_result", "tool_use_id": "call_paris", "content": "18°C, sunny"},
             {"type": "tool_result", "tool_use_id": "call_rome", "content": "22°C, cloudy"},
             T("And tomorrow?"))]})

req("R08-tool-message-text-parts",
    f"{REQ}: assistant content null + one tool_call → only a tool_use block; a tool message whose content is text parts → tool_result whose content is text blocks.",
    {"model": "gpt-4o", "max_tokens": 1024, "tools": [CHAT_READ], "messages": [
        {"role": "user", "content": "Read /tmp/a.txt"},
        {"role": "assistant", "content": None, "tool_calls": [call("call_1", "read_file", "{\"path\":\"/tmp/a.txt\"}")]},
        {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "line one"}, {"type": "text", "text": "line two"}]}]},
    {"model": UP, "max_tokens": 1024, "tools": [ANTH_READ], "messages": [
        user(T("Read /tmp/a.txt")),
        asst({"type": "tool_use", "id": "call_1", "name": "read_file", "input": {"path": "/tmp/a.txt"}}),
        user({"type": "tool_result", "tool_use_id": "call_1", "content": [T("line one"), T("line two")]})]})

req("R09-tool-arguments-not-an-object",
    f"{REQ}: tool_use input is the parsed arguments only when they are a JSON object; invalid JSON, an array, a string, an empty string and `null` all become {{}}.",
    {"model": "gpt-4o", "max_tokens": 1024, "tools": [CHAT_WEATHER], "messages": [
        {"role": "user", "content": "Weather everywhere, please."},
        {"role": "assistant", "content": None, "tool_calls": [
            call("call_a", "get_weather", "{\"city\": \"Paris\""),
            call("call_b", "get_weather", "[\"Paris\"]"),
            call("call_c", "get_weather", "\"Paris\""),
            call("call_d", "get_weather", ""),
            call("call_e", "get_weather", "null"),
            call("call_f", "get_weather", "{\"city\":\"Oslo\"}")]},
        {"role": "tool", "tool_call_id": "call_a", "content": "error"},
        {"role": "tool", "tool_call_id": "call_b", "content": "error"},
        {"role": "tool", "tool_call_id": "call_c", "content": "error"},
        {"role": "tool", "tool_call_id": "call_d", "content": "error"},
        {"role": "tool", "tool_call_id": "call_e", "content": "error"},
        {"role": "tool", "tool_call_id": "call_f", "content": "-3°C"}]},
    {"model": UP, "max_tokens": 1024, "tools": [ANTH_WEATHER], "messages": [
        user(T("Weather everywhere, please.")),
        asst({"type": "tool_use", "id": "call_a", "name": "get_weather", "input": {}},
             {"type": "tool_use", "id": "call_b", "name": "get_weather", "input": {}},
             {"type": "tool_use", "id": "call_c", "name": "get_weather", "input": {}},
             {"type": "tool_use", "id": "call_d", "name": "get_weather", "input": {}},
             {"type": "tool_use", "id": "call_e", "name": "get_weather", "input": {}},
             {"type": "tool_use", "id": "call_f", "name": "get_weather", "input": {"city": "Oslo"}}),
        user({"type": "tool_result", "tool_use_id": "call_a", "content": "error"},
             {"type": "tool_result", "tool_use_id": "call_b", "content": "error"},
             {"type": "tool_result", "tool_use_id": "call_c", "content": "error"},
             {"type": "tool_result", "tool_use_id": "call_d", "content": "error"},
             {"type": "tool_result", "tool_use_id": "call_e", "content": "error"},
             {"type": "tool_result", "tool_use_id": "call_f", "content": "-3°C"})]})

req("R10-consecutive-same-role-merged",
    f"{REQ}: three consecutive user messages (string, parts with an image, string) merge into one user turn; two consecutive assistant messages merge into one assistant turn.",
    {"model": "gpt-4o", "max_tokens": 200, "messages": [
        {"role": "user", "content": "First."},
        {"role": "user", "content": [{"type": "text", "text": "Second."},
                                     {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="}}]},
        {"role": "user", "content": "Third."},
        {"role": "assistant", "content": "Part A."},
        {"role": "assistant", "content": "Part B."},
        {"role": "user", "content": "Fourth."}]},
    {"model": UP, "max_tokens": 200, "messages": [
        user(T("First."), T("Second."), {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="}}, T("Third.")),
        asst(T("Part A."), T("Part B.")),
        user(T("Fourth."))]})

req("R11-assistant-first-dot-user-turn",
    f"{REQ}: when the first (non-system) message is the assistant's, a user turn [{{type:text,text:\".\"}}] is put first.",
    {"model": "gpt-4o", "max_tokens": 200, "messages": [
        {"role": "system", "content": "Continue the story."},
        {"role": "assistant", "content": "Once upon a time,"},
        {"role": "user", "content": "Go on."}]},
    {"model": UP, "max_tokens": 200, "system": [T("Continue the story.")],
     "messages": [user(T(".")), asst(T("Once upon a time,")), user(T("Go on."))]})

req("R12-empty-text-skipped-refusal-dropped",
    f"{REQ}: empty user text parts are skipped; an assistant with content \"\" and a tool_call → only tool_use; assistant text parts skip empty text and drop `refusal` parts.",
    {"model": "gpt-4o", "max_tokens": 200, "tools": [CHAT_READ], "messages": [
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "Read the answer file."}]},
        {"role": "assistant", "content": "", "tool_calls": [call("call_1", "read_file", "{\"path\":\"/answer\"}")]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
        {"role": "assistant", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "The answer is 42."},
                                          {"type": "refusal", "refusal": "I won't say more."}]},
        {"role": "user", "content": "Thanks!"}]},
    {"model": UP, "max_tokens": 200, "tools": [ANTH_READ], "messages": [
        user(T("Read the answer file.")),
        asst({"type": "tool_use", "id": "call_1", "name": "read_file", "input": {"path": "/answer"}}),
        user({"type": "tool_result", "tool_use_id": "call_1", "content": "42"}),
        asst(T("The answer is 42.")),
        user(T("Thanks!"))]})

req("R13-empty-message-dropped",
    f"{REQ}: an assistant message with content \"\" and no tool_calls is left without blocks and dropped; the user messages on either side are then consecutive and merge.",
    {"model": "gpt-4o", "max_tokens": 200, "messages": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "Are you there?"}]},
    {"model": UP, "max_tokens": 200, "messages": [user(T("Hi"), T("Are you there?"))]})

req("R14-legacy-function-message",
    f"{REQ}: a legacy `function` message becomes a tool_result whose tool_use_id is the message's `name`.",
    {"model": "gpt-4o", "max_tokens": 200, "tools": [CHAT_WEATHER], "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call("get_weather", "get_weather", "{\"city\":\"Paris\"}")]},
        {"role": "function", "name": "get_weather", "content": "18°C"}]},
    {"model": UP, "max_tokens": 200, "tools": [ANTH_WEATHER], "messages": [
        user(T("Weather in Paris?")),
        asst({"type": "tool_use", "id": "get_weather", "name": "get_weather", "input": {"city": "Paris"}}),
        user({"type": "tool_result", "tool_use_id": "get_weather", "content": "18°C"})]})

req("R15-assistant-reasoning-dropped",
    f"{REQ}: assistant reasoning_content and reasoning_details are dropped (no genuine Anthropic signature); the text is kept.",
    {"model": "gpt-4o", "max_tokens": 200, "messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4", "reasoning_content": "Simple arithmetic.",
         "reasoning_details": [{"type": "reasoning.text", "text": "Simple arithmetic.", "signature": "c2lnbmF0dXJl", "format": "anthropic-claude-v1"}]},
        {"role": "user", "content": "3+3?"}]},
    {"model": UP, "max_tokens": 200, "messages": [user(T("2+2?")), asst(T("4")), user(T("3+3?"))]})

# ---------------------------------------------------------------- max_tokens
req("R16-max-completion-tokens-precedence",
    f"{REQ}: max_completion_tokens wins over max_tokens; a cap above it does not change it.",
    {"model": "gpt-4o", "max_tokens": 900, "max_completion_tokens": 500, "messages": HI},
    {"model": UP, "max_tokens": 500, "messages": HI_A}, opts(cap=8192))

req("R17-max-tokens-capped",
    f"{REQ}: the client's max_tokens above the target's cap → the cap.",
    {"model": "gpt-4o", "max_tokens": 100000, "messages": HI},
    {"model": UP, "max_tokens": 8192, "messages": HI_A}, opts(cap=8192))

req("R18-default-max-tokens-capped",
    f"{REQ}: no client max → default 4096, then capped by the target's 2000.",
    {"model": "gpt-4o", "messages": HI},
    {"model": UP, "max_tokens": 2000, "messages": HI_A}, opts(cap=2000))

# ---------------------------------------------------------------- sampling / stop
req("R19-temperature-clamped-high-top-p-kept",
    f"{REQ}: temperature 1.7 is clamped to 1; top_p passes unchanged (no thinking).",
    {"model": "gpt-4o", "max_tokens": 100, "temperature": 1.7, "top_p": 0.5, "messages": HI},
    {"model": UP, "max_tokens": 100, "temperature": 1, "top_p": 0.5, "messages": HI_A})

req("R20-temperature-clamped-negative",
    f"{REQ}: a negative temperature is clamped to 0.",
    {"model": "gpt-4o", "max_tokens": 100, "temperature": -0.5, "messages": HI},
    {"model": UP, "max_tokens": 100, "temperature": 0, "messages": HI_A})

req("R21-stop-array-whitespace-dropped",
    f"{REQ}: stop array → stop_sequences without the whitespace-only entries (\" \", \"\\n\\n\", \"\\t\"); entries with non-space text are kept untrimmed.",
    {"model": "gpt-4o", "max_tokens": 100, "stop": ["END", " ", "\n\n", "\nUser:", "\t"], "messages": HI},
    {"model": UP, "max_tokens": 100, "stop_sequences": ["END", "\nUser:"], "messages": HI_A})

req("R22-stop-string",
    f"{REQ}: a stop string → stop_sequences with one entry.",
    {"model": "gpt-4o", "max_tokens": 100, "stop": "###", "messages": HI},
    {"model": UP, "max_tokens": 100, "stop_sequences": ["###"], "messages": HI_A})

req("R23-stop-whitespace-only-omitted",
    f"{REQ}: a stop string that is only whitespace leaves no entry, so stop_sequences is omitted.",
    {"model": "gpt-4o", "max_tokens": 100, "stop": " \n", "messages": HI},
    {"model": UP, "max_tokens": 100, "messages": HI_A})

# ---------------------------------------------------------------- tools
req("R24-tools-with-and-without-parameters",
    f"{REQ}: tools[].function → {{name, description, input_schema}}; `strict` dropped; no parameters → input_schema {{type:object, properties:{{}}}}; no description → no description key; tool_choice auto → {{type:auto}}.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tool_choice": "auto", "tools": [
        {"type": "function", "function": {"name": "get_weather", "description": "Get the current weather for a city.", "parameters": WEATHER_PARAMS, "strict": True}},
        {"type": "function", "function": {"name": "get_time", "description": "Get the current UTC time."}},
        {"type": "function", "function": {"name": "ping"}}]},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tool_choice": {"type": "auto"}, "tools": [
        ANTH_WEATHER,
        {"name": "get_time", "description": "Get the current UTC time.", "input_schema": {"type": "object", "properties": {}}},
        {"name": "ping", "input_schema": {"type": "object", "properties": {}}}]})

req("R25-tool-choice-required",
    f"{REQ}: tool_choice required → {{type:any}}.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tools": [CHAT_WEATHER], "tool_choice": "required"},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tools": [ANTH_WEATHER], "tool_choice": {"type": "any"}})

req("R26-tool-choice-none",
    f"{REQ}: tool_choice none → {{type:none}} (tools still sent).",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tools": [CHAT_WEATHER], "tool_choice": "none"},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tools": [ANTH_WEATHER], "tool_choice": {"type": "none"}})

req("R27-tool-choice-named",
    f"{REQ}: named tool_choice {{type:function, function:{{name}}}} → {{type:tool, name}}.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tools": [CHAT_WEATHER, CHAT_READ],
     "tool_choice": {"type": "function", "function": {"name": "read_file"}}},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tools": [ANTH_WEATHER, ANTH_READ],
     "tool_choice": {"type": "tool", "name": "read_file"}})

req("R28-parallel-false-without-tool-choice",
    f"{REQ}: parallel_tool_calls false with tools and no tool_choice → tool_choice {{type:auto, disable_parallel_tool_use:true}}.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tools": [CHAT_WEATHER], "parallel_tool_calls": False},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tools": [ANTH_WEATHER],
     "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}})

req("R29-parallel-false-with-required",
    f"{REQ}: parallel_tool_calls false + tool_choice required → {{type:any, disable_parallel_tool_use:true}}.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tools": [CHAT_WEATHER], "tool_choice": "required", "parallel_tool_calls": False},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tools": [ANTH_WEATHER],
     "tool_choice": {"type": "any", "disable_parallel_tool_use": True}})

req("R30-parallel-false-with-named",
    f"{REQ}: parallel_tool_calls false + named tool_choice → {{type:tool, name, disable_parallel_tool_use:true}}.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tools": [CHAT_WEATHER], "parallel_tool_calls": False,
     "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tools": [ANTH_WEATHER],
     "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}})

req("R31-parallel-false-with-none",
    f"{REQ}: parallel_tool_calls false is not added to tool_choice none → {{type:none}}.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tools": [CHAT_WEATHER], "tool_choice": "none", "parallel_tool_calls": False},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tools": [ANTH_WEATHER], "tool_choice": {"type": "none"}})

req("R32-parallel-false-without-tools",
    f"{REQ}: parallel_tool_calls false without tools adds nothing (the doc: 'with tools'); no tool_choice key.",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "parallel_tool_calls": False},
    {"model": UP, "max_tokens": 100, "messages": HI_A})

req("R33-parallel-true-dropped",
    f"{REQ}: parallel_tool_calls true with tools and no tool_choice → no tool_choice key (Anthropic's default allows parallel use).",
    {"model": "gpt-4o", "max_tokens": 100, "messages": HI, "tools": [CHAT_WEATHER], "parallel_tool_calls": True},
    {"model": UP, "max_tokens": 100, "messages": HI_A, "tools": [ANTH_WEATHER]})

# ---------------------------------------------------------------- reasoning_effort
req("R34-reasoning-low-default-max",
    f"{REQ}: reasoning_effort low → thinking budget 1024; default max_tokens 4096 is above the budget, so it stays.",
    {"model": "gpt-4o", "reasoning_effort": "low", "messages": HI},
    {"model": UP, "max_tokens": 4096, "thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": HI_A})

req("R35-reasoning-medium-client-max-above-budget",
    f"{REQ}: reasoning_effort medium → budget 2048; the client's max_completion_tokens 3000 is above it, so it stays.",
    {"model": "gpt-4o", "reasoning_effort": "medium", "max_completion_tokens": 3000, "messages": HI},
    {"model": UP, "max_tokens": 3000, "thinking": {"type": "enabled", "budget_tokens": 2048}, "messages": HI_A})

req("R36-reasoning-high-default-raised",
    f"{REQ}: reasoning_effort high → budget 4096; no client max, so max_tokens 4096 is not above the budget → budget + 4096 = 8192.",
    {"model": "gpt-4o", "reasoning_effort": "high", "messages": HI},
    {"model": UP, "max_tokens": 8192, "thinking": {"type": "enabled", "budget_tokens": 4096}, "messages": HI_A})

req("R37-reasoning-xhigh-client-max-raised",
    f"{REQ}: reasoning_effort xhigh → budget 8192; client max_tokens 1000 is not above it → 8192 + 1000 = 9192.",
    {"model": "gpt-4o", "reasoning_effort": "xhigh", "max_tokens": 1000, "messages": HI},
    {"model": UP, "max_tokens": 9192, "thinking": {"type": "enabled", "budget_tokens": 8192}, "messages": HI_A})

req("R38-reasoning-max-default-raised-capped",
    f"{REQ}: reasoning_effort max → budget 16384; no client max → 16384 + 4096 = 20480, capped by the target's 20000.",
    {"model": "gpt-4o", "reasoning_effort": "max", "messages": HI},
    {"model": UP, "max_tokens": 20000, "thinking": {"type": "enabled", "budget_tokens": 16384}, "messages": HI_A}, opts(cap=20000))

req("R39-reasoning-high-client-max-raised-capped",
    f"{REQ}: reasoning_effort high → budget 4096; client max_completion_tokens 2000 is not above it → 4096 + 2000 = 6096, capped by the target's 5000.",
    {"model": "gpt-4o", "reasoning_effort": "high", "max_completion_tokens": 2000, "messages": HI},
    {"model": UP, "max_tokens": 5000, "thinking": {"type": "enabled", "budget_tokens": 4096}, "messages": HI_A}, opts(cap=5000))

req("R40-reasoning-equal-to-budget-raised",
    f"{REQ}: reasoning_effort high with client max_tokens exactly 4096 (= budget, not above it) → 4096 + 4096 = 8192.",
    {"model": "gpt-4o", "reasoning_effort": "high", "max_tokens": 4096, "messages": HI},
    {"model": UP, "max_tokens": 8192, "thinking": {"type": "enabled", "budget_tokens": 4096}, "messages": HI_A})

req("R41-reasoning-none",
    f"{REQ}: reasoning_effort none → no thinking; temperature and top_p pass as usual.",
    {"model": "gpt-4o", "max_tokens": 100, "reasoning_effort": "none", "temperature": 0.2, "top_p": 0.8, "messages": HI},
    {"model": UP, "max_tokens": 100, "temperature": 0.2, "top_p": 0.8, "messages": HI_A})

req("R42-reasoning-minimal",
    f"{REQ}: reasoning_effort minimal → no thinking.",
    {"model": "gpt-4o", "max_tokens": 100, "reasoning_effort": "minimal", "messages": HI},
    {"model": UP, "max_tokens": 100, "messages": HI_A})

req("R43-thinking-drops-temperature-and-low-top-p",
    f"{REQ}: with thinking on (medium), temperature is dropped and top_p 0.9 (< 0.95) is dropped.",
    {"model": "gpt-4o", "max_tokens": 8000, "reasoning_effort": "medium", "temperature": 0.7, "top_p": 0.9, "messages": HI},
    {"model": UP, "max_tokens": 8000, "thinking": {"type": "enabled", "budget_tokens": 2048}, "messages": HI_A})

req("R44-thinking-keeps-high-top-p",
    f"{REQ}: with thinking on (low), temperature is dropped and top_p 0.95 (≥ 0.95) is kept.",
    {"model": "gpt-4o", "max_tokens": 8000, "reasoning_effort": "low", "temperature": 1, "top_p": 0.95, "messages": HI},
    {"model": UP, "max_tokens": 8000, "top_p": 0.95, "thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": HI_A})

# ---------------------------------------------------------------- response_format, metadata, dropped fields, stream
PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
          "required": ["name", "age"], "additionalProperties": False}
req("R45-response-format-json-schema",
    f"{REQ}: response_format json_schema → output_config {{format:{{type:json_schema, schema}}}} (name and strict not carried).",
    {"model": "gpt-4o", "max_tokens": 200, "messages": HI,
     "response_format": {"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": PERSON}}},
    {"model": UP, "max_tokens": 200, "messages": HI_A, "output_config": {"format": {"type": "json_schema", "schema": PERSON}}})

req("R46-response-format-json-object",
    f"{REQ}: response_format json_object → one more system block 'Respond with a single JSON object and nothing else.' after the client's system blocks.",
    {"model": "gpt-4o", "max_tokens": 200, "response_format": {"type": "json_object"}, "messages": [
        {"role": "system", "content": "You extract data."}, {"role": "user", "content": "Name: Ann, age 31"}]},
    {"model": UP, "max_tokens": 200,
     "system": [T("You extract data."), T("Respond with a single JSON object and nothing else.")],
     "messages": [user(T("Name: Ann, age 31"))]})

req("R47-response-format-json-object-no-system",
    f"{REQ}: response_format json_object without client system messages → system is just the instruction block.",
    {"model": "gpt-4o", "max_tokens": 200, "response_format": {"type": "json_object"}, "messages": HI},
    {"model": UP, "max_tokens": 200, "system": [T("Respond with a single JSON object and nothing else.")], "messages": HI_A})

req("R48-response-format-text",
    f"{REQ}: response_format text → nothing.",
    {"model": "gpt-4o", "max_tokens": 200, "response_format": {"type": "text"}, "messages": HI},
    {"model": UP, "max_tokens": 200, "messages": HI_A})

req("R49-user-to-metadata",
    f"{REQ}: `user` → metadata.user_id; the client's own OpenAI `metadata` object is dropped.",
    {"model": "gpt-4o", "max_tokens": 100, "user": "user-1234", "metadata": {"project": "alpha"}, "messages": HI},
    {"model": UP, "max_tokens": 100, "metadata": {"user_id": "user-1234"}, "messages": HI_A})

req("R50-safety-identifier-wins",
    f"{REQ}: safety_identifier ?? user → metadata.user_id (safety_identifier wins when both are given).",
    {"model": "gpt-4o", "max_tokens": 100, "user": "legacy-user", "safety_identifier": "sid-5678", "messages": HI},
    {"model": UP, "max_tokens": 100, "metadata": {"user_id": "sid-5678"}, "messages": HI_A})

req("R51-dropped-fields",
    f"{REQ}: dropped: presence_penalty, frequency_penalty, logit_bias, logprobs, top_logprobs, seed, stream_options, n:1, store, service_tier, modalities, prediction, audio, parallel_tool_calls (no tools), message name, unknown fields; stream false is omitted.",
    {"model": "gpt-4o", "max_tokens": 100, "stream": False, "messages": [{"role": "user", "name": "bob", "content": "Hi"}],
     "presence_penalty": 0.5, "frequency_penalty": 0.3, "logit_bias": {"50256": -100}, "logprobs": True, "top_logprobs": 2,
     "seed": 7, "stream_options": {"include_usage": True}, "n": 1, "store": True, "service_tier": "auto", "modalities": ["text"],
     "prediction": {"type": "content", "content": "Hello"}, "audio": {"voice": "alloy", "format": "mp3"},
     "parallel_tool_calls": True, "unknown_field_xyz": {"anything": [1, 2, 3]}},
    {"model": UP, "max_tokens": 100, "messages": HI_A})

req("R52-stream-true-kept",
    f"{REQ}: stream true is kept; stream_options is dropped (include_usage only shapes the downstream).",
    {"model": "gpt-4o", "max_tokens": 100, "stream": True, "stream_options": {"include_usage": True}, "messages": HI},
    {"model": UP, "max_tokens": 100, "stream": True, "messages": HI_A})

req("R53-full-conversation",
    f"{REQ}: everything together: system + developer, tools with parallel_tool_calls false, tool round trip followed by user text, temperature/top_p/stop/user, stream.",
    {"model": "gpt-4o", "stream": True, "max_completion_tokens": 2048, "temperature": 0.3, "top_p": 0.9, "stop": ["\n\nHuman:"],
     "user": "u-42", "parallel_tool_calls": False, "tools": [CHAT_READ], "messages": [
         {"role": "developer", "content": "You are a coding assistant."},
         {"role": "user", "content": "Open /etc/hostname"},
         {"role": "assistant", "content": None, "tool_calls": [call("call_h", "read_file", "{\"path\":\"/etc/hostname\"}")]},
         {"role": "tool", "tool_call_id": "call_h", "content": "build-box\n"},
         {"role": "user", "content": [{"type": "text", "text": "What does it say?"}]}]},
    {"model": UP, "max_tokens": 2048, "stream": True, "temperature": 0.3, "top_p": 0.9, "stop_sequences": ["\n\nHuman:"],
     "metadata": {"user_id": "u-42"}, "tools": [ANTH_READ], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
     "system": [T("You are a coding assistant.")], "messages": [
         user(T("Open /etc/hostname")),
         asst({"type": "tool_use", "id": "call_h", "name": "read_file", "input": {"path": "/etc/hostname"}}),
         user({"type": "tool_result", "tool_use_id": "call_h", "content": "build-box\n"}, T("What does it say?"))]})

# =====================================================================================
# E: request errors (400, message naming the field)
# =====================================================================================
VAL = "openai-front-door.md Errors the gateway writes, Validation"
req_err("E01-n-greater-than-one", f"§7 `n>1` → 400; {VAL}: n is 1 only.",
        {"model": "gpt-4o", "n": 2, "messages": HI}, "n")
req_err("E02-input-audio-part", f"§7 input_audio → 400 invalid_request_error; the message names the part by its index in the client's messages array (the system message counts).",
        {"model": "gpt-4o", "messages": [{"role": "system", "content": "Transcribe."}, {"role": "user", "content": [
            {"type": "text", "text": "What is said here?"}, {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}}]}]},
        "messages[1].content[1].type")
req_err("E03-file-by-file-id", "openai-front-door.md Request: a file part by file_id only (no file_data) → 400 naming the part.",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Summarize."}, {"type": "file", "file": {"file_id": "file-abc123"}}]}]},
        "messages[0].content[1]")
req_err("E04-unknown-part-type", "openai-front-door.md Request: any other part type → 400 naming the part.",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}}]}]},
        "messages[0].content[0].type")
req_err("E05-messages-empty", f"{VAL}: messages must be a non-empty array.",
        {"model": "gpt-4o", "messages": []}, "messages")
req_err("E06-messages-missing", f"{VAL}: messages must be a non-empty array (missing).",
        {"model": "gpt-4o"}, "messages")
req_err("E07-unknown-role", f"{VAL}: a message without a known role.",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}, {"role": "wizard", "content": "Abracadabra"}]},
        "messages[1].role")
req_err("E08-model-missing", f"{VAL}: model must be a non-empty string (missing).",
        {"messages": HI}, "model")
req_err("E09-model-empty", f"{VAL}: model must be a non-empty string (empty).",
        {"model": "", "messages": HI}, "model")
req_err("E10-max-tokens-string", f"{VAL}: max_tokens must be a non-negative JSON integer (\"10\" is a string).",
        {"model": "gpt-4o", "max_tokens": "10", "messages": HI}, "max_tokens")
req_err("E11-max-tokens-fraction", f"{VAL}: max_tokens must be a non-negative JSON integer (10.5).",
        {"model": "gpt-4o", "max_tokens": 10.5, "messages": HI}, "max_tokens")
req_err("E12-max-completion-tokens-negative", f"{VAL}: max_completion_tokens must be a non-negative JSON integer (-5).",
        {"model": "gpt-4o", "max_completion_tokens": -5, "messages": HI}, "max_completion_tokens")
req_err("E13-stream-not-bool", f"{VAL}: wrong type of stream (\"yes\").",
        {"model": "gpt-4o", "stream": "yes", "messages": HI}, "stream")
req_err("E14-temperature-string", f"{VAL}: wrong type of temperature.",
        {"model": "gpt-4o", "temperature": "hot", "messages": HI}, "temperature")
req_err("E15-stop-number", f"{VAL}: wrong type of stop (a number).",
        {"model": "gpt-4o", "stop": 42, "messages": HI}, "stop")
req_err("E16-tools-not-array", f"{VAL}: wrong type of tools (an object).",
        {"model": "gpt-4o", "tools": {"type": "function", "function": {"name": "x"}}, "messages": HI}, "tools")
req_err("E17-tool-choice-number", f"{VAL}: wrong type of tool_choice.",
        {"model": "gpt-4o", "tool_choice": 3, "tools": [CHAT_WEATHER], "messages": HI}, "tool_choice")
req_err("E18-top-p-string", f"{VAL}: wrong type of top_p.",
        {"model": "gpt-4o", "top_p": "0.9", "messages": HI}, "top_p")

# =====================================================================================
# P: non-streamed responses (anthropic.response.json -> chat.response.json)
# =====================================================================================
RESP = "§7 Non-stream response; openai-front-door.md Response"


def am(id_, content, stop_reason, usage, stop_sequence=None):
    return {"id": id_, "type": "message", "role": "assistant", "model": ANTHROPIC_MODEL, "content": content,
            "stop_reason": stop_reason, "stop_sequence": stop_sequence, "usage": usage}


def cc(id_, message, finish, usage):
    m = {"role": "assistant"}
    m.update(message)
    return {"id": "chatcmpl-" + id_, "object": "chat.completion", "created": CREATED, "model": CLIENT,
            "choices": [{"index": 0, "message": m, "logprobs": None, "finish_reason": finish}], "usage": usage}


def au(inp, out, cc_=None, cr=None, **extra):
    u = {"input_tokens": inp}
    if cc_ is not None:
        u["cache_creation_input_tokens"] = cc_
    if cr is not None:
        u["cache_read_input_tokens"] = cr
    u["output_tokens"] = out
    u.update(extra)
    return u


resp("P01-text-only",
     f"{RESP}: one text block, end_turn → content string, refusal null, no tool_calls key, finish stop; id chatcmpl-<msg id>, created from the case, model = the client's; usage with zero cache counts → cached_tokens 0, no cache_write_tokens.",
     am("msg_01TextOnlyA1b2C3d4E5f6G7h8", [T("Hello! How can I help you today?")], "end_turn", au(12, 10, 0, 0, service_tier="standard")),
     cc("msg_01TextOnlyA1b2C3d4E5f6G7h8", {"content": "Hello! How can I help you today?", "refusal": None}, "stop",
        {"prompt_tokens": 12, "completion_tokens": 10, "total_tokens": 22, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P02-text-and-two-tool-calls",
     f"{RESP}: text + two tool_use blocks (parallel), stop_reason tool_use → content text, tool_calls in order with arguments = compact JSON of input, finish tool_calls.",
     am("msg_01ToolsPar9Zy8Xw7Vu6Ts5Rq4", [
         T("I'll check both cities."),
         {"type": "tool_use", "id": "toolu_01Paris0000000000000000", "name": "get_weather", "input": {"city": "Paris"}},
         {"type": "tool_use", "id": "toolu_01Rome00000000000000000", "name": "get_weather", "input": {"city": "Rome", "unit": "celsius"}}],
        "tool_use", au(350, 92, 0, 0)),
     cc("msg_01ToolsPar9Zy8Xw7Vu6Ts5Rq4", {"content": "I'll check both cities.", "refusal": None, "tool_calls": [
         {"id": "toolu_01Paris0000000000000000", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
         {"id": "toolu_01Rome00000000000000000", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\",\"unit\":\"celsius\"}"}}]},
        "tool_calls", {"prompt_tokens": 350, "completion_tokens": 92, "total_tokens": 442, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P03-tool-calls-only-content-null",
     f"{RESP}: tool_use blocks and no text → content null; an empty input → arguments \"{{}}\"; nested input is compact JSON.",
     am("msg_01OnlyTools1111111111111111", [
         {"type": "tool_use", "id": "toolu_01Time", "name": "get_time", "input": {}},
         {"type": "tool_use", "id": "toolu_01Query", "name": "search", "input": {"q": "swift nio", "filters": {"lang": ["en", "de"], "limit": 5}}}],
        "tool_use", au(80, 40)),
     cc("msg_01OnlyTools1111111111111111", {"content": None, "refusal": None, "tool_calls": [
         {"id": "toolu_01Time", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
         {"id": "toolu_01Query", "type": "function", "function": {"name": "search", "arguments": "{\"q\":\"swift nio\",\"filters\":{\"lang\":[\"en\",\"de\"],\"limit\":5}}"}}]},
        "tool_calls", {"prompt_tokens": 80, "completion_tokens": 40, "total_tokens": 120, "prompt_tokens_details": {"cached_tokens": 0}}))

THINK_CONTENT = [{"type": "thinking", "thinking": "The user greets me. A short greeting back is enough.", "signature": "EqQBCkgIARABGAIiQLongSignatureValue=="},
                 T("Hi there!")]
resp("P04-thinking-dropped",
     f"{RESP}: thinking + text with the reasoning_content option off → the thinking is dropped (no reasoning_content key).",
     am("msg_01ThinkOff222222222222222", THINK_CONTENT, "end_turn", au(30, 55, 0, 0)),
     cc("msg_01ThinkOff222222222222222", {"content": "Hi there!", "refusal": None}, "stop",
        {"prompt_tokens": 30, "completion_tokens": 55, "total_tokens": 85, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P05-thinking-reasoning-content",
     f"{RESP}: thinking + text with the reasoning_content option on → message.reasoning_content holds the thinking text.",
     am("msg_01ThinkOn3333333333333333", THINK_CONTENT, "end_turn", au(30, 55, 0, 0)),
     cc("msg_01ThinkOn3333333333333333", {"content": "Hi there!", "refusal": None,
                                          "reasoning_content": "The user greets me. A short greeting back is enough."}, "stop",
        {"prompt_tokens": 30, "completion_tokens": 55, "total_tokens": 85, "prompt_tokens_details": {"cached_tokens": 0}}),
     opts(reasoning=True))

resp("P06-stop-sequence",
     f"{RESP}: stop_reason stop_sequence → finish stop; usage without cache fields → cached_tokens 0.",
     am("msg_01StopSeq44444444444444444", [T("1, 2, 3, ")], "stop_sequence", au(20, 8), stop_sequence="4"),
     cc("msg_01StopSeq44444444444444444", {"content": "1, 2, 3, ", "refusal": None}, "stop",
        {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P07-max-tokens",
     f"{RESP}: stop_reason max_tokens → finish length.",
     am("msg_01MaxTok55555555555555555", [T("Once upon a time there was a")], "max_tokens", au(15, 8, 0, 0)),
     cc("msg_01MaxTok55555555555555555", {"content": "Once upon a time there was a", "refusal": None}, "length",
        {"prompt_tokens": 15, "completion_tokens": 8, "total_tokens": 23, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P08-refusal",
     f"{RESP}: stop_reason refusal → finish content_filter (message.refusal stays null; the text is content).",
     am("msg_01Refuse66666666666666666", [T("I can't help with that.")], "refusal", au(25, 7, 0, 0)),
     cc("msg_01Refuse66666666666666666", {"content": "I can't help with that.", "refusal": None}, "content_filter",
        {"prompt_tokens": 25, "completion_tokens": 7, "total_tokens": 32, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P09-pause-turn",
     f"{RESP}: stop_reason pause_turn → finish stop.",
     am("msg_01Pause777777777777777777", [T("Still working on it.")], "pause_turn", au(40, 6, 0, 0)),
     cc("msg_01Pause777777777777777777", {"content": "Still working on it.", "refusal": None}, "stop",
        {"prompt_tokens": 40, "completion_tokens": 6, "total_tokens": 46, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P10-context-window-exceeded",
     f"{RESP}: stop_reason model_context_window_exceeded → finish length.",
     am("msg_01CtxFull88888888888888888", [T("The summary so far")], "model_context_window_exceeded", au(199000, 1000, 0, 0)),
     cc("msg_01CtxFull88888888888888888", {"content": "The summary so far", "refusal": None}, "length",
        {"prompt_tokens": 199000, "completion_tokens": 1000, "total_tokens": 200000, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P11-cache-usage",
     f"{RESP}: usage input 50 + cache_read 800 + cache_creation 200 → prompt_tokens 1050, completion 30, total 1080, cached_tokens 800, cache_write_tokens 200.",
     am("msg_01Cache99999999999999999", [T("Cached answer.")], "end_turn", au(50, 30, 200, 800, service_tier="standard")),
     cc("msg_01Cache99999999999999999", {"content": "Cached answer.", "refusal": None}, "stop",
        {"prompt_tokens": 1050, "completion_tokens": 30, "total_tokens": 1080,
         "prompt_tokens_details": {"cached_tokens": 800, "cache_write_tokens": 200}}))

resp("P12-empty-content-null",
     f"{RESP}: empty content array → message.content null.",
     am("msg_01EmptyAAAAAAAAAAAAAAAAAA", [], "end_turn", au(10, 1, 0, 0)),
     cc("msg_01EmptyAAAAAAAAAAAAAAAAAA", {"content": None, "refusal": None}, "stop",
        {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P13-stop-reason-null",
     f"{RESP}: stop_reason null (none) → finish stop.",
     am("msg_01NoStopBBBBBBBBBBBBBBBBBB", [T("Partial")], None, au(10, 2)),
     cc("msg_01NoStopBBBBBBBBBBBBBBBBBB", {"content": "Partial", "refusal": None}, "stop",
        {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12, "prompt_tokens_details": {"cached_tokens": 0}}))

resp("P14-cache-read-only",
     f"{RESP}: cache_read > 0 and cache_creation 0 → cached_tokens only, no cache_write_tokens.",
     am("msg_01CacheRdCCCCCCCCCCCCCCCCC", [T("From cache.")], "end_turn", au(5, 4, 0, 1200)),
     cc("msg_01CacheRdCCCCCCCCCCCCCCCCC", {"content": "From cache.", "refusal": None}, "stop",
        {"prompt_tokens": 1205, "completion_tokens": 4, "total_tokens": 1209, "prompt_tokens_details": {"cached_tokens": 1200}}))

# =====================================================================================
# S: streams (anthropic.sse -> chat.sse)
# =====================================================================================
STR = "§7 Streaming; openai-front-door.md Stream"


def ev(name, data):
    return (name, data)


def e_start(id_, usage):
    return ev("message_start", {"type": "message_start", "message": {
        "id": id_, "type": "message", "role": "assistant", "model": ANTHROPIC_MODEL, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": usage}})


def e_text(i):
    return ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})


def e_think(i):
    return ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})


def e_tool(i, id_, name):
    return ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": id_, "name": name, "input": {}}})


def e_td(i, t):
    return ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": t}})


def e_thd(i, t):
    return ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "thinking_delta", "thinking": t}})


def e_sig(i, s):
    return ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "signature_delta", "signature": s}})


def e_js(i, p):
    return ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": p}})


def e_bstop(i):
    return ev("content_block_stop", {"type": "content_block_stop", "index": i})


def e_md(stop_reason, usage, stop_sequence=None):
    return ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence}, "usage": usage})


def e_end():
    return ev("message_stop", {"type": "message_stop"})


PING = ev("ping", {"type": "ping"})


def anthropic_sse(events):
    return "".join(f"event: {name}\ndata: {cj(data)}\n\n" for name, data in events)


def ck(id_, delta, finish=None):
    return {"id": "chatcmpl-" + id_, "object": "chat.completion.chunk", "created": CREATED, "model": CLIENT,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def usage_chunk(id_, usage):
    return {"id": "chatcmpl-" + id_, "object": "chat.completion.chunk", "created": CREATED, "model": CLIENT,
            "choices": [], "usage": usage}


def chat_sse(chunks, done=True):
    return "".join(f"data: {cj(c)}\n\n" for c in chunks) + ("data: [DONE]\n\n" if done else "")


def stream(name, description, events, chunks, include_usage, done=True, options=None):
    add(name, "stream", description, {"anthropic.sse": anthropic_sse(events), "chat.sse": chat_sse(chunks, done)},
        options, include_usage=include_usage)


ROLE = {"role": "assistant", "content": ""}

# S01/S02: the same transcript without and with include_usage
I1 = "msg_01StreamText1111111111111"
TEXT_EVENTS = [e_start(I1, {"input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}),
               e_text(0), PING, e_td(0, "Hello"), e_td(0, ""), e_td(0, ", world!"), e_bstop(0),
               e_md("end_turn", {"output_tokens": 6}), e_end()]
TEXT_CHUNKS = [ck(I1, ROLE), ck(I1, {"content": "Hello"}), ck(I1, {"content": ", world!"}), ck(I1, {}, "stop")]
stream("S01-text-stream",
       f"{STR}: message_start → role chunk; text block start, ping, empty text_delta, content_block_stop → nothing; text_delta → content; message_delta end_turn → delta {{}} + finish stop; message_stop without include_usage → no usage chunk; then [DONE].",
       TEXT_EVENTS, TEXT_CHUNKS, include_usage=False)
stream("S02-text-stream-include-usage",
       f"{STR}: the S01 transcript with include_usage → after the finish chunk a chunk with choices [] and usage (input 25 from message_start, output 6 from message_delta), then [DONE].",
       TEXT_EVENTS, TEXT_CHUNKS + [usage_chunk(I1, {"prompt_tokens": 25, "completion_tokens": 6, "total_tokens": 31,
                                                     "prompt_tokens_details": {"cached_tokens": 0}})],
       include_usage=True)

# S03/S04: thinking then text
I3 = "msg_01StreamThinkOff333333333"
I4 = "msg_01StreamThinkOn4444444444"


def think_events(id_):
    return [e_start(id_, {"input_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}),
            e_think(0), e_thd(0, "The user says hi."), e_thd(0, " A short greeting back."), e_sig(0, "EqQBCkgIARABGAIiQSignature=="), e_bstop(0),
            e_text(1), e_td(1, "Hi there!"), e_bstop(1),
            e_md("end_turn", {"output_tokens": 48}), e_end()]


stream("S03-thinking-then-text",
       f"{STR}: thinking block (thinking_delta, signature_delta) then text with the reasoning_content option off → thinking sends nothing.",
       think_events(I3), [ck(I3, ROLE), ck(I3, {"content": "Hi there!"}), ck(I3, {}, "stop")], include_usage=False)
stream("S04-thinking-then-text-reasoning-content",
       f"{STR}: the same with the reasoning_content option on → each thinking_delta → delta.reasoning_content; signature_delta → nothing.",
       think_events(I4), [ck(I4, ROLE), ck(I4, {"reasoning_content": "The user says hi."}), ck(I4, {"reasoning_content": " A short greeting back."}),
                          ck(I4, {"content": "Hi there!"}), ck(I4, {}, "stop")],
       include_usage=False, options=opts(reasoning=True))

# S05: text then two tool_use blocks
I5 = "msg_01StreamTools555555555555"
stream("S05-text-then-two-tool-calls",
       f"{STR}: text block (index 0) then two tool_use blocks (Anthropic indices 1 and 2) → tool_calls index 0 and 1; tool_use start → id/type/name + arguments \"\"; input_json_delta → arguments fragments; empty partial_json sends nothing; stop_reason tool_use → finish tool_calls.",
       [e_start(I5, {"input_tokens": 420, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}),
        e_text(0), e_td(0, "I'll check both cities."), e_bstop(0),
        e_tool(1, "toolu_01Paris", "get_weather"), e_js(1, ""), e_js(1, "{\"city\": "), e_js(1, "\"Paris\"}"), e_bstop(1),
        PING,
        e_tool(2, "toolu_01Rome", "get_weather"), e_js(2, ""), e_js(2, "{\"city\": \"Rome\"}"), e_bstop(2),
        e_md("tool_use", {"output_tokens": 118}), e_end()],
       [ck(I5, ROLE), ck(I5, {"content": "I'll check both cities."}),
        ck(I5, {"tool_calls": [{"index": 0, "id": "toolu_01Paris", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
        ck(I5, {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": "}}]}),
        ck(I5, {"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
        ck(I5, {"tool_calls": [{"index": 1, "id": "toolu_01Rome", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
        ck(I5, {"tool_calls": [{"index": 1, "function": {"arguments": "{\"city\": \"Rome\"}"}}]}),
        ck(I5, {}, "tool_calls")],
       include_usage=False)

# S06: max_tokens
I6 = "msg_01StreamLength66666666666"
stream("S06-max-tokens-stop",
       f"{STR}: stop_reason max_tokens → finish length; message_start usage without cache fields → usage chunk with cached_tokens 0.",
       [e_start(I6, {"input_tokens": 18, "output_tokens": 1}), e_text(0), e_td(0, "The story begins"), e_bstop(0),
        e_md("max_tokens", {"output_tokens": 5}), e_end()],
       [ck(I6, ROLE), ck(I6, {"content": "The story begins"}), ck(I6, {}, "length"),
        usage_chunk(I6, {"prompt_tokens": 18, "completion_tokens": 5, "total_tokens": 23, "prompt_tokens_details": {"cached_tokens": 0}})],
       include_usage=True)

# S07: overloaded error mid-stream
I7 = "msg_01StreamError777777777777"
stream("S07-error-mid-stream-overloaded",
       f"{STR}; openai-front-door.md Errors table: an `event: error` (overloaded_error) after some text → data {{error:{{message, type server_error, param null, code overloaded}}}} and the end: no finish chunk, no usage chunk (even with include_usage), no [DONE].",
       [e_start(I7, {"input_tokens": 30, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}),
        e_text(0), e_td(0, "Partial ans"),
        ev("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})],
       [ck(I7, ROLE), ck(I7, {"content": "Partial ans"}),
        {"error": {"message": "Overloaded", "type": "server_error", "param": None, "code": "overloaded"}}],
       include_usage=True, done=False)

# S08: cache usage carried by message_delta
I8 = "msg_01StreamCache88888888888"
stream("S08-message-delta-cache-usage",
       f"{STR}: usage in message_delta (input 15, cache_creation 2000, cache_read 5000, output 42) wins over message_start's zeros → prompt 7015, completion 42, total 7057, cached 5000, cache_write 2000.",
       [e_start(I8, {"input_tokens": 15, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}),
        e_text(0), e_td(0, "Done."), e_bstop(0),
        e_md("end_turn", {"input_tokens": 15, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 5000, "output_tokens": 42}), e_end()],
       [ck(I8, ROLE), ck(I8, {"content": "Done."}), ck(I8, {}, "stop"),
        usage_chunk(I8, {"prompt_tokens": 7015, "completion_tokens": 42, "total_tokens": 7057,
                         "prompt_tokens_details": {"cached_tokens": 5000, "cache_write_tokens": 2000}})],
       include_usage=True)

# S09: cache usage only in message_start; message_delta only output_tokens
I9 = "msg_01StreamStopSeq999999999"
stream("S09-stop-sequence-start-cache-usage",
       f"{STR}: stop_reason stop_sequence → finish stop; cache counts only in message_start (input 20, cache_read 1000, cache_creation 0) and message_delta only output_tokens 9 → prompt 1020, cached 1000, no cache_write_tokens.",
       [e_start(I9, {"input_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1000, "output_tokens": 1}),
        PING, e_text(0), e_td(0, "a, b, c"), e_bstop(0),
        e_md("stop_sequence", {"output_tokens": 9}, stop_sequence=", d"), e_end()],
       [ck(I9, ROLE), ck(I9, {"content": "a, b, c"}), ck(I9, {}, "stop"),
        usage_chunk(I9, {"prompt_tokens": 1020, "completion_tokens": 9, "total_tokens": 1029, "prompt_tokens_details": {"cached_tokens": 1000}})],
       include_usage=True)

# S10: refusal
I10 = "msg_01StreamRefusalAAAAAAAAA"
stream("S10-refusal",
       f"{STR}: stop_reason refusal → finish content_filter.",
       [e_start(I10, {"input_tokens": 22, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}),
        e_text(0), e_td(0, "I can't"), e_bstop(0), e_md("refusal", {"output_tokens": 3}), e_end()],
       [ck(I10, ROLE), ck(I10, {"content": "I can't"}), ck(I10, {}, "content_filter")],
       include_usage=False)

# S11: api_error right after message_start
I11 = "msg_01StreamApiErrBBBBBBBBBB"
stream("S11-error-api-error-before-content",
       f"{STR}; Errors table: an `event: error` of type api_error right after message_start (data also carries request_id) → data {{error:{{message, type server_error, param null, code null}}}}, no [DONE].",
       [e_start(I11, {"input_tokens": 9, "output_tokens": 1}),
        ev("error", {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}, "request_id": "req_011CExampleRequestId"})],
       [ck(I11, ROLE), {"error": {"message": "Internal server error", "type": "server_error", "param": None, "code": None}}],
       include_usage=False, done=False)

# S12: thinking, text and a tool with reasoning on and include_usage (all together)
I12 = "msg_01StreamAllCCCCCCCCCCCCC"
stream("S12-thinking-text-tool-usage",
       f"{STR}: thinking (option on) then text then one tool_use at Anthropic index 2 → tool_calls index 0 (k counts tool_use blocks only); tool_use → finish tool_calls; include_usage with cache_creation only → prompt 400, cached 0, cache_write 300.",
       [e_start(I12, {"input_tokens": 100, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 0, "output_tokens": 1}),
        e_think(0), e_thd(0, "Need the file."), e_sig(0, "EqQBSig=="), e_bstop(0),
        e_text(1), e_td(1, "Reading it."), e_bstop(1),
        e_tool(2, "toolu_01Read", "read_file"), e_js(2, ""), e_js(2, "{\"path\":\"/etc/hosts\"}"), e_bstop(2),
        e_md("tool_use", {"output_tokens": 64}), e_end()],
       [ck(I12, ROLE), ck(I12, {"reasoning_content": "Need the file."}), ck(I12, {"content": "Reading it."}),
        ck(I12, {"tool_calls": [{"index": 0, "id": "toolu_01Read", "type": "function", "function": {"name": "read_file", "arguments": ""}}]}),
        ck(I12, {"tool_calls": [{"index": 0, "function": {"arguments": "{\"path\":\"/etc/hosts\"}"}}]}),
        ck(I12, {}, "tool_calls"),
        usage_chunk(I12, {"prompt_tokens": 400, "completion_tokens": 64, "total_tokens": 464,
                          "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 300}})],
       include_usage=True, options=opts(reasoning=True))


# =====================================================================================
NAME_RE = re.compile(r"^[REPS]\d{2}-[a-z0-9]+(-[a-z0-9]+)*$")


def write():
    for d in os.listdir(ROOT):
        p = os.path.join(ROOT, d)
        if os.path.isdir(p) and NAME_RE.match(d):
            shutil.rmtree(p)
    names = set()
    for name, meta, files in CASES:
        assert NAME_RE.match(name), name
        assert name not in names, name
        names.add(name)
        d = os.path.join(ROOT, name)
        os.makedirs(d)
        with open(os.path.join(d, "case.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2, ensure_ascii=False)
            f.write("\n")
        for fn, content in files.items():
            with open(os.path.join(d, fn), "w", encoding="utf-8", newline="") as f:
                if fn.endswith(".json"):
                    json.dump(content, f, indent=2, ensure_ascii=False)
                    f.write("\n")
                else:
                    f.write(content)
    print(len(CASES), "cases written")


if __name__ == "__main__":
    write()
