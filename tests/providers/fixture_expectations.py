"""Expected results for every recorded wire fixture, derived by reading the files (independent of the parser).

Derived with throwaway scripts (two independent passes) plus a manual read of each body under
/work/shared/fixtures/wire/; nothing here comes from ``mai_tui``. Keys are paths relative to that folder.

Schema of chat-like entries (kind "stream", "nonstream" or "error"):
  text, reasoning       concatenated visible text / reasoning text (tool-call arguments and signatures excluded)
  finish_reason         OpenAI vocabulary; the LAST non-null one in a stream; None if the stream never sent one
  generation_id         OpenAI/OpenRouter chunk id, Anthropic message id, Gemini responseId, Ollama None
  usage                 prompt_tokens (incl. cache reads + writes), completion_tokens (incl. reasoning),
                        cached_tokens, cache_write_tokens, reasoning_tokens, cost_usd; None if no usage at all
  error_kind            None, or the normalised error kind
  status, message       only for error bodies and for streams that carry an error object
Error bodies carry no answer, so their text/reasoning are "" and finish_reason/generation_id/usage are None.
Entries of kind "other" (model lists, tags, /api/generate) carry ``notes`` instead: exact wire values.

usage.cost_usd is the provider-reported cost as the exact decimal literal written on the wire (never a float
repr: float("0.00005") reprs as 5e-05). Feed it to Decimal, not float.
"""

from __future__ import annotations

from typing import Any

EXPECTED: dict[str, dict[str, Any]] = {
    # ==================== openai ====================
    # Text contains literal backslashes: \(4200 + 42 = 4242\).
    "openai/chat_completions_nonstream.json": {
        "kind": "nonstream",
        "text": "\\(4200 + 42 = 4242\\).",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "chatcmpl-CRkJFgcA6BuMrBur38ZHUXgT6zRjg",
        "usage": {
            "prompt_tokens": 16,
            "completion_tokens": 12,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    "openai/chat_completions_nonstream_after_tools.json": {
        "kind": "nonstream",
        "text": "YES",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "chatcmpl-BWpGTZY785VsZipCO0bAvF7Z7tjdA",
        "usage": {
            "prompt_tokens": 146,
            "completion_tokens": 3,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # Text contains literal backslashes (LaTeX \( \times \)); the Python literal below escapes them.
    "openai/chat_completions_stream_after_tool_result.sse": {
        "kind": "stream",
        "text": "The result of \\( 1231 \\times 2331 \\) is \\( 2,869,461 \\).",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "chatcmpl-BWlJCN7VZTtSHROczp0AbrjFGhRMA",
        "usage": {
            "prompt_tokens": 87,
            "completion_tokens": 26,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # Chunks carry the 'obfuscation' padding field (ignore it); usage-only final chunk has choices: [].
    "openai/chat_completions_stream_text_usage.sse": {
        "kind": "stream",
        "text": "4200 + 42 equals 4242.",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "chatcmpl-CoDWl5rS0pF10P0W0TDVgY3NA26dk",
        "usage": {
            "prompt_tokens": 16,
            "completion_tokens": 10,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # Tool-call-only stream: delta.content is null throughout, so text is ""; the arguments '{"a":1231,"b":2331}'
    # arrive in 11 fragments and are NOT text. Usage arrives in a final chunk with choices: [].
    "openai/chat_completions_stream_tool_call_usage.sse": {
        "kind": "stream",
        "text": "",
        "reasoning": "",
        "finish_reason": "tool_calls",
        "generation_id": "chatcmpl-BWlJBDk2xe66hjff60joVYpXi1hh4",
        "usage": {
            "prompt_tokens": 54,
            "completion_tokens": 20,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # Pretty-printed 4-space JSON body with trailing newline; status from sidecar.
    "openai/error_401_invalid_api_key.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "authentication",
        "status": 401,
        "message": (
            "Incorrect API key provided: invalid-*****2345. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        ),
    },
    "openai/error_404_model_not_found.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "model_not_found",
        "status": 404,
        "message": ("The model `this-model-does-not-exist-12345` does not exist or you do not have access to it."),
    },
    # 429 with type/code insufficient_quota -> "quota" (not rate_limited). Status from sidecar (body from an issue).
    "openai/error_429_insufficient_quota.from_issue.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "quota",
        "status": 429,
        "message": (
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
        ),
    },
    # ==================== anthropic ====================
    "anthropic/error_401_authentication.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "authentication",
        "status": 401,
        "message": "invalid x-api-key",
    },
    # 404 not_found_error whose message names a model -> "model_not_found".
    "anthropic/error_404_not_found.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "model_not_found",
        "status": 404,
        "message": "model: this-model-does-not-exist-12345",
    },
    # No sidecar: status taken from the file name.
    "anthropic/error_429_rate_limit.from_issue.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "rate_limited",
        "status": 429,
        "message": "This request would exceed your account's rate limit. Please try again later.",
    },
    # No sidecar: status taken from the file name.
    "anthropic/error_500_api_error.from_issue.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "server_error",
        "status": 500,
        "message": "Internal server error",
    },
    "anthropic/error_529_overloaded.from_issue.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "overloaded",
        "status": 529,
        "message": "Overloaded",
    },
    # No sidecar: status taken from the file name.
    "anthropic/error_529_overloaded_with_request_id.from_issue.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "overloaded",
        "status": 529,
        "message": "Overloaded",
    },
    "anthropic/messages_nonstream.json": {
        "kind": "nonstream",
        "text": "4200 + 42 = 4242",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "msg_01EXuhhFC9buDpjCcznFPSDs",
        "usage": {
            "prompt_tokens": 17,
            "completion_tokens": 15,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # A ping event arrives between the two text deltas; data lines carry trailing-space padding before the newline.
    # Final usage: message_start {in 17, out 1} overlaid by message_delta {in 17, out 15} (cumulative, not added).
    "anthropic/messages_stream_short.sse": {
        "kind": "stream",
        "text": "4200 + 42 = 4242",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "msg_018bk6q16LtrDpGDm6TyXTgn",
        "usage": {
            "prompt_tokens": 17,
            "completion_tokens": 15,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # Trailing-space padding after the JSON in most data lines. Final output_tokens = 10 (message_delta), not 1 + 10.
    "anthropic/messages_stream_text.sse": {
        "kind": "stream",
        "text": "- Captain\n- Scoop",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "msg_017A4s3HAsrqf5d2WvBmrpLr",
        "usage": {
            "prompt_tokens": 17,
            "completion_tokens": 10,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # Block 0 is thinking (29 thinking_delta + 1 signature_delta); the signature is NOT reasoning text. Block 1 is text.
    # Text is identical to messages_stream_text.sse. output_tokens 84 includes thinking, but the wire has no
    # output_tokens_details.thinking_tokens, so reasoning_tokens is 0 per the rule.
    "anthropic/messages_stream_thinking.sse": {
        "kind": "stream",
        "text": "- Captain\n- Scoop",
        "reasoning": (
            "The user wants two names for a pet pelican, and wants me to be brief. I'll "
            "give two simple, fitting names.\n\n"
            "Some options:\n- Pete\n- Percy\n"
            "- Captain\n- Scoop\n- Bill\n- Gully\n\n"
            "I'll pick two good ones and keep it very short."
        ),
        "finish_reason": "stop",
        "generation_id": "msg_01RTjjePNDCQNgHXg3KeDPfv",
        "usage": {
            "prompt_tokens": 46,
            "completion_tokens": 84,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # Text block first ("I'll retrieve ..."), then two tool_use blocks whose input_json_delta fragments are split
    # mid-key/mid-value; only the text_delta strings count as text. stop_reason tool_use -> "tool_calls";
    # final output_tokens 109 (delta) replaces 1 (start).
    "anthropic/messages_stream_tool_use.sse": {
        "kind": "stream",
        "text": "I'll retrieve the secrets for both passwords you provided.",
        "reasoning": "",
        "finish_reason": "tool_calls",
        "generation_id": "msg_013zKrzHmx2EAPhcF2gQKQ4k",
        "usage": {
            "prompt_tokens": 416,
            "completion_tokens": 109,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # No text block at all: two tool_use blocks with empty partial_json (zero-arg tool); text is "".
    # message_start already reports output_tokens 62 and message_delta repeats 62 -> 62, not 124.
    # Extra fields 'caller' and 'stop_details' (null) must be tolerated.
    "anthropic/messages_stream_tool_use_no_args.sse": {
        "kind": "stream",
        "text": "",
        "reasoning": "",
        "finish_reason": "tool_calls",
        "generation_id": "msg_01V2noLbAb2NgKnjaNw6Cn3w",
        "usage": {
            "prompt_tokens": 542,
            "completion_tokens": 62,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # ==================== gemini ====================
    # Gemini reports a bad key as HTTP 400 INVALID_ARGUMENT with details[].reason API_KEY_INVALID -> "authentication".
    "gemini/error_400_api_key_invalid.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "authentication",
        "status": 400,
        "message": "API key not valid. Please pass a valid API key.",
    },
    # Same error on the alt=sse endpoint: Content-Type text/event-stream, but the body is plain pretty-printed JSON
    # with no 'data:' prefix. A pure SSE parser would see zero events.
    "gemini/error_400_api_key_invalid_on_sse.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "authentication",
        "status": 400,
        "message": "API key not valid. Please pass a valid API key.",
    },
    # completion = candidatesTokenCount 77 + thoughtsTokenCount 25 = 102 (totalTokenCount 115 = 13 + 77 + 25).
    "gemini/generate_content.json": {
        "kind": "nonstream",
        "text": (
            "To calculate 4200 + 42:\n\n*   **Hundreds, thousands:** 4200\n"
            "*   **Tens, ones:** 42\n\nAdding them together:\n"
            "4200\n+  42\n-----\n4242\n\nSo, 4200 + 42 = **4242**."
        ),
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "SJfyaMbrNJKlqtsPvNOW8Ao",
        "usage": {
            "prompt_tokens": 13,
            "completion_tokens": 102,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 25,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    "gemini/models_list_page1.json": {
        "kind": "other",
        "status": 200,
        "error_kind": None,
        "notes": {
            "model_count": 50,
            "has_next_page_token": True,
            "next_page_token": "Ch9tb2RlbHMvdmVvLTMuMS1nZW5lcmF0ZS1wcmV2aWV3",
            "first_model": "models/gemini-2.5-flash",
            "last_model": "models/veo-3.1-generate-preview",
        },
    },
    # alt=sse with CRLF line endings (events separated by \r\n\r\n). usageMetadata is cumulative: take the LAST chunk
    # (candidates 63 + thoughts 75 = 138), not 50 + 63. No thought parts are sent, but thoughtsTokenCount is 75.
    "gemini/stream_generate_content.sse": {
        "kind": "stream",
        "text": (
            "To find the sum of 4200 + 42, we can align the numbers by their place values:\n\n"
            "  4200\n+   42\n------\n  4242\n\n"
            "So, 4200 + 42 = **4242**."
        ),
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "VJfyaP7eE_6zmtkP4qLV6Ao",
        "usage": {
            "prompt_tokens": 13,
            "completion_tokens": 138,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 75,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # streamGenerateContent WITHOUT alt=sse: the body is one JSON array '[{...}\n,\r\n{...}\n,\r\n{...}\n]', streamed;
    # treated as a stream of 3 chunks. Chunk 1 is a thought-only part ("thought": true) -> reasoning, and its
    # usageMetadata has no candidatesTokenCount. Chunk 3 has an empty text part with thoughtSignature (no "thought"
    # flag) -> adds "" to text. Usage from the last chunk: 2 + 291 = 293 (totalTokenCount 304 = 11 + 2 + 291).
    "gemini/stream_generate_content_json_array.json": {
        "kind": "stream",
        "text": "Scoop",
        "reasoning": (
            "**Considering the Constraint**\n\n"
            'I\'m focusing intently on the "just the name" constraint. It demands a single, '
            "direct name; no fluff, no preliminaries. I'm actively suppressing any inclination "
            "to offer multiple options or explain my reasoning. This constraint is paramount.\n\n\n"
        ),
        "finish_reason": "stop",
        "generation_id": "IopyaseNCL-s-8YP7urOoAY",
        "usage": {
            "prompt_tokens": 11,
            "completion_tokens": 293,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 291,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    # ==================== ollama ====================
    # 23 NDJSON lines; the done:true line has content "" and carries done_reason + counts. No generation id.
    "ollama/chat_stream.ndjson": {
        "kind": "stream",
        "text": ("Hello! How are you today? Is there something I can help you with or would you like to chat?"),
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": None,
        "usage": {
            "prompt_tokens": 13,
            "completion_tokens": 23,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    "ollama/chat_stream_2.ndjson": {
        "kind": "stream",
        "text": "Hello! How can I assist you today?",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": None,
        "usage": {
            "prompt_tokens": 13,
            "completion_tokens": 10,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
        },
        "error_kind": None,
    },
    "ollama/generate_nonstream.json": {
        "kind": "other",
        "status": 200,
        "error_kind": None,
        "notes": {
            "model": "llama3.2:3b",
            "response": (
                "I'm an artificial intelligence model, specifically a transformer-based language model, "
                "designed to provide helpful and informative responses."
            ),
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 39,
            "eval_count": 23,
            "context_token_count": 60,
        },
    },
    # No sidecar (real response pasted into a unit test by the Kiln authors); status 200 per SOURCES.md.
    "ollama/tags.from_test.json": {
        "kind": "other",
        "status": 200,
        "error_kind": None,
        "notes": {
            "model_count": 4,
            "model_names": ["scosman_net", "phi3.5:latest", "gemma2:2b", "llama3.1:latest"],
            # The first entry has only name + model, and model != name ("scosman_net:latest").
            "model_fields": ["scosman_net:latest", "phi3.5:latest", "gemma2:2b", "llama3.1:latest"],
        },
    },
    # ==================== openrouter ====================
    # Body starts with keep-alive padding '\n         \n' before the JSON object; strip leading whitespace first.
    # cost is the JSON number 0.00005 (Python float repr would be '5e-05').
    "openrouter/chat_completions_nonstream_usage_cost.json": {
        "kind": "nonstream",
        "text": "Hello!",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "gen-1769672415-IZfpP2WAlINOOT5hLvOW",
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 2,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": "0.00005",
        },
        "error_kind": None,
    },
    # Two ': OPENROUTER PROCESSING' comments first. Content "" chunks before and after "Hello!". finish_reason "stop"
    # arrives on the second-to-last chunk; the usage chunk after it has finish_reason null (keep "stop").
    # Usage chunk has a non-empty choices list (unlike OpenAI's choices: []).
    "openrouter/chat_completions_stream_bedrock_usage_cost.sse": {
        "kind": "stream",
        "text": "Hello!",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "gen-1769672442-2UupkRyKgMiWvqgfBb8k",
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 5,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": "0.000222",
        },
        "error_kind": None,
    },
    # HTTP 200 stream: 17 keep-alive comments, then reasoning-only deltas (content ""). reasoning = the delta.reasoning
    # strings (reasoning_details[].text duplicates them and must not be counted twice; the third chunk has
    # reasoning null). finish_reason: chunks 2 and 3 say "length", the error chunk says null, so by the
    # last-non-null rule it is "length" (not "error"). The error chunk carries error {code: 400, message:
    # 'Token limit reached'} AND usage: reasoning_tokens 11 exceeds completion_tokens 10 on the wire. cost is the
    # integer literal 0 -> "0". status below is the HTTP status (200); the in-stream error.code is 400.
    "openrouter/chat_completions_stream_midstream_error.sse": {
        "kind": "stream",
        "text": "",
        "reasoning": "We need to respond to a greeting. The user",
        "finish_reason": "length",
        "generation_id": "gen-1762179802-UN8pkJI4AGZvryk0kFnb",
        "usage": {
            "prompt_tokens": 43,
            "completion_tokens": 10,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 11,
            "cost_usd": "0",
        },
        "error_kind": "stream_error",
        "status": 200,
        "message": "Token limit reached",
    },
    # NO chunk has a non-null finish_reason (the stream ends with a usage chunk and [DONE]), so finish_reason is None
    # by the rule, even though a tool call was made. Tool arguments '' then '{}' (the same tool_call index 0 repeated
    # with id and name each time) are not text; content is "" or null throughout.
    "openrouter/chat_completions_stream_tool_calls.sse": {
        "kind": "stream",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": "gen-1753242299-QZRAt5HJHd1ptY8sdS0s",
        "usage": {
            "prompt_tokens": 57,
            "completion_tokens": 17,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": "0.00007159",
        },
        "error_kind": None,
    },
    # Starts with one ': OPENROUTER PROCESSING' comment; delta.role repeated on every chunk.
    "openrouter/chat_completions_stream_usage_cost.sse": {
        "kind": "stream",
        "text": "Pebbles and Skipper.",
        "reasoning": "",
        "finish_reason": "stop",
        "generation_id": "gen-1754441342-hIkMo7SMi0ZecQw3oR4d",
        "usage": {
            "prompt_tokens": 17,
            "completion_tokens": 6,
            "cached_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": "0.0001025",
        },
        "error_kind": None,
    },
    # 402 -> "quota". Single-line body from an issue; status from sidecar (no real headers).
    "openrouter/error_402_insufficient_credits.from_issue.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "quota",
        "status": 402,
        "message": (
            "This request requires more credits, or fewer max_tokens. You requested up to "
            "65536 tokens, but can only afford 10114. To increase, visit https://openrouter.ai/settings/credits "
            "and upgrade to a paid account"
        ),
    },
    # Upstream (provider_name Google) rate limit relayed as 429; the generic message is 'Provider returned error' and
    # the useful text is in error.metadata.raw. No insufficient-quota marker -> "rate_limited".
    "openrouter/error_429_upstream_rate_limited.json": {
        "kind": "error",
        "text": "",
        "reasoning": "",
        "finish_reason": None,
        "generation_id": None,
        "usage": None,
        "error_kind": "rate_limited",
        "status": 429,
        "message": "Provider returned error",
    },
    "openrouter/models_2025-04.json": {
        "kind": "other",
        "status": 200,
        "error_kind": None,
        "notes": {
            "model_count": 302,
            "free_model_count": 60,  # ids ending in ":free"
            "samples": {
                "openai/gpt-4o": {
                    "context_length": 128000,
                    "pricing": {
                        "prompt": "0.0000025",
                        "completion": "0.00001",
                        "request": "0",
                        "image": "0.003613",
                        "web_search": "0",
                        "internal_reasoning": "0",
                        "input_cache_read": "0.00000125",
                    },
                },
                "google/gemini-2.5-pro-preview-03-25": {
                    "context_length": 1048576,
                    "pricing": {
                        "prompt": "0.00000125",
                        "completion": "0.00001",
                        "request": "0",
                        "image": "0.00516",
                        "web_search": "0",
                        "internal_reasoning": "0",
                        "input_cache_read": "0.000000625",
                        "input_cache_write": "0",
                    },
                },
                # Sentinel row: variable pricing is written as "-1"; top_provider.context_length is null.
                "openrouter/auto": {
                    "context_length": 2000000,
                    "pricing": {"prompt": "-1", "completion": "-1"},
                },
            },
        },
    },
}
