#!/usr/bin/env bash
# Writes the seed inputs of the fuzz targets into fuzz/corpus/<target>/ (git-ignored):
#   - the response bodies of tests/fixtures/*.yaml (framing, pipeline; their data lines: chunk),
#     and the whole yaml files (framing);
#   - small hand-written streams and event data covering what the fixtures lack;
#   - for chunk: the data lines of the recorded corpus ($SSECHUNK_CORPUS, else ../shared/corpus),
#     when it is present. (framing and pipeline read that corpus as is: see fuzz/run.sh.)
#   - for template: the data lines of each fixture, hand-written stream and recorded stream,
#     joined by LF (one run of documents per stream, cut at 64 KiB).
# Seeds are named by content or origin, so running it again changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

framing=fuzz/corpus/framing chunk=fuzz/corpus/chunk pipeline=fuzz/corpus/pipeline
template=fuzz/corpus/template dialects=fuzz/corpus/dialects
mkdir -p "$framing" "$chunk" "$pipeline" "$template" "$dialects"

# put NAME DIR...: stdin becomes the seed NAME in each DIR.
put() {
    local name=$1 tmp
    shift
    tmp=$(mktemp)
    cat >"$tmp"
    for dir in "$@"; do cp "$tmp" "$dir/$name"; done
    rm -f "$tmp"
}

# data_lines PREFIX FILE...: each `data:` line's value (one leading space and a final CR
# dropped) becomes the chunk seed PREFIX-<file>-<line number>.
data_lines() {
    local prefix=$1
    shift
    awk -v dir="$chunk" -v prefix="$prefix" '
        /^data:/ {
            value = $0
            sub(/^data: ?/, "", value)
            sub(/\r$/, "", value)
            name = FILENAME
            sub(/.*fantasy\//, "", name)
            sub(/^fuzz\/corpus\//, "", name)
            gsub(/\//, "_", name)
            out = dir "/" prefix "-" name "-" FNR
            printf "%s", value > out
            close(out)
        }' "$@"
}

# runs NAME FILE: the data lines of the stream FILE, joined by LF, become the template seed
# NAME.
runs() {
    sed -n 's/\r$//; s/^data: \{0,1\}//p' "$2" | {
        head -c 65536 >"$template/$1"
        cat >/dev/null
    }
}

# The fixtures: each `body: |+` block scalar, unindented (its trailing blank lines kept).
for yaml in tests/fixtures/*.yaml; do
    name=$(basename "$yaml" .yaml)
    put "fixture-$name.yaml" "$framing" <"$yaml"
    awk '
        function flush() { if (keep) printf "%s", blanks; blanks = "" }
        inbody && /^[[:space:]]*$/ { blanks = blanks "\n"; next }
        inbody {
            match($0, /^ */)
            if (RLENGTH > key) {
                if (indent < 0) indent = RLENGTH
                printf "%s%s\n", blanks, substr($0, indent + 1)
                blanks = ""
                next
            }
            flush()
            inbody = 0
        }
        /^ *body: \|[+-]?$/ {
            match($0, /^ */)
            key = RLENGTH; inbody = 1; indent = -1; blanks = ""; keep = ($0 ~ /\+$/)
        }
        END { if (inbody) flush() }' "$yaml" >"fuzz/corpus/$name.sse"
    put "fixture-$name.sse" "$framing" "$pipeline" <"fuzz/corpus/$name.sse"
    data_lines fixture "fuzz/corpus/$name.sse"
    runs "fixture-$name" "fuzz/corpus/$name.sse"
    rm "fuzz/corpus/$name.sse"
done

# Hand-written streams: every SSE field, CR/CRLF/LF, a BOM, comments, multi-line data,
# tool calls, reasoning, usage, an API error, invalid UTF-8, a truncated end.
stream() {
    printf "$2" | put "hand-$1" "$framing" "$pipeline"
    runs "hand-$1" "$framing/hand-$1"
}
stream simple 'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Ol\\u00e1"}}]}\n\ndata: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
stream fields '\xEF\xBB\xBF: keep-alive\r\nretry: 1500\r\nid: 7\r\nevent: message\r\ndata: {"choices":[]}\r\n\r\nevent: ping\rdata\r\r:\n\n'
stream multiline 'data:{"choices":[{"delta":\ndata: {"content":"a\\nb"}}]}\n\ndata:\ndata:\n\nid\nretry: 99999999999999999999999\ndata: x\n\n'
stream tools 'data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get","arguments":""}}]}}]}\n\ndata: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\":"}},{"index":1,"id":"call_2","function":{"name":"put","arguments":"{}"}}]}}]}\n\ndata: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n'
stream reasoning 'data: {"model":"m","choices":[{"delta":{"reasoning_content":"think"}},{"index":1,"delta":{"reasoning":"other","refusal":"no"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":4,"total_tokens":24,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}}\n\n'
stream error 'data: {"choices":[{"delta":{"content":"x"}}]}\n\ndata: {"error":{"message":"overloaded","type":"server_error","code":529,"param":null}}\n\ndata: {"error":"str"}\n\ndata: [1,2]\n\ndata: nope\n\n'
stream utf8 'data: {"choices":[{"delta":{"content":"\xff\xc3("}}]}\n\ndata: \xed\xa0\x80\n\nevent: \xf0\x9f\x98\x80\ndata: {"id":"\\ud83d\\ude00"}\n\n'
stream repeats 'data: {"id":"","model":"a","choices":[{"delta":{"role":"assistant","content":""},"finish_reason":""}]}\n\ndata: {"id":"c2","model":"b","choices":[{"delta":{"role":"tool","content":"x","tool_calls":[{"id":"t1","type":"function","function":{"name":"f"}}]},"finish_reason":"length"},{"index":2,"delta":{"role":"user"}}]}\n\ndata: {"id":"c3","choices":[{"delta":{"role":"","tool_calls":[{"id":"t2","type":"x","function":{"name":"g","arguments":"1"}}]},"finish_reason":"stop"}],"usage":{"total_tokens":1}}\n\ndata: {"choices":[],"usage":{"total_tokens":2}}\n\n'
stream truncated 'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"choices":[{"delta":{"content":"b"}}]}\ndata: {"cho'

# Hand-written streams of the other dialects (the recorded ones are read as they are: see
# fuzz/run.sh): an Anthropic tool call and thinking, a Responses function call, Gemini parts.
dialect() { printf "$2" | put "hand-$1" "$dialects"; }
dialect anthropic 'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":3,"output_tokens":1}}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\":1}"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
dialect responses 'event: response.created\ndata: {"type":"response.created","response":{"id":"r","model":"g"}}\n\nevent: response.output_item.added\ndata: {"type":"response.output_item.added","output_index":0,"item":{"id":"fc","type":"function_call","call_id":"c","name":"f"}}\n\nevent: response.function_call_arguments.delta\ndata: {"type":"response.function_call_arguments.delta","item_id":"fc","output_index":0,"delta":"{}"}\n\nevent: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}}\n\n'
dialect gemini 'data: {"candidates":[{"content":{"parts":[{"text":"hm","thought":true},{"text":"Oi"},{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2},"responseId":"x"}\r\n\r\n'

# Hand-written event data for the decoder.
data() { printf '%s' "$2" | put "hand-$1" "$chunk"; }
data done '[DONE]'
data chunk '{"id":"c","object":"chat.completion.chunk","created":1758884734,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi\n\u00e9\ud83d\ude00"},"logprobs":null,"finish_reason":null}]}'
data tools '{"choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},7,{"index":2}]},"finish_reason":"tool_calls"}]}'
data usage '{"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":4,"total_tokens":24,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}}'
data reasoning '{"choices":[{"delta":{"reasoning":"b","reasoning_content":"a"}},{"delta":{"reasoning_content":null,"reasoning":"c"}}]}'
data error '{"error":{"message":"rate limited","type":"requests","code":"rate_limit_exceeded","param":"model"}}'
data error-num '{"error":{"code":-12.5e3,"message":null},"choices":[{"delta":{"content":"x"}}]}'
data types '{"id":1,"created":-1,"model":["m"],"choices":{"delta":{}},"usage":null,"error":[]}'
data dupes '{"id":"a","id":"b","choices":[{"delta":{"content":"x"}}],"choices":[{"index":18446744073709551615}]}'
data numbers '{"created":18446744073709551616,"choices":[{"index":1.0},{"index":-0},{"index":1e2}]}'
data not-object '["choices"]'
data escapes '{"\u0069d":"\"\\\/\b\f\n\r\t\u0000"}'

# The recorded corpus's event data, when it is there.
corpus=${SSECHUNK_CORPUS:-../shared/corpus}
if [ -d "$corpus" ]; then
    mapfile -d '' recorded < <(find "$corpus" -name '*.sse' -print0)
    [ ${#recorded[@]} -eq 0 ] || data_lines corpus "${recorded[@]}"
    for file in "${recorded[@]}"; do
        name=${file#*fantasy/}
        runs "corpus-${name//\//_}" "$file"
    done
fi

for dir in "$framing" "$chunk" "$pipeline" "$template" "$dialects"; do
    echo "seed.sh: $(find "$dir" -type f | wc -l) seeds in $dir"
done
