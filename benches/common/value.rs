//! The peers' decoding of the Anthropic Messages, OpenAI Responses and Gemini dialects, as
//! genai and rig do it: each event's data parsed into a `serde_json::Value`, then the text
//! looked up per dialect. Shared by the throughput benchmarks (`dialect/*` groups) and
//! `examples/peer_stats.rs --value`, so that both count by one rule.
//!
//! What is counted, in bytes of the decoded (unescaped) strings, the same rule as ssechunk's
//! parts (`Part::Text`, `Part::Reasoning`, `Part::ToolCallArguments`):
//! - Anthropic: `content_block_start`'s `content_block.text` (a `text` block) and
//!   `content_block.thinking` (a `thinking` block); `content_block_delta`'s `delta.text`
//!   (`text_delta`), `delta.thinking` (`thinking_delta`) and `delta.partial_json`
//!   (`input_json_delta`) of a block that a `content_block_start` opened as `tool_use` (a
//!   server tool's input, such as web search's, is no tool call);
//! - Responses: the `delta` of `response.output_text.delta` (content),
//!   `response.reasoning_summary_text.delta` and `response.reasoning_text.delta` (reasoning),
//!   `response.function_call_arguments.delta` and `response.custom_tool_call_input.delta`
//!   (tool arguments);
//! - Gemini: `candidates[].content.parts[].text` (reasoning when the part has
//!   `"thought": true`, else content) and, for a `functionCall` part, the JSON text of its
//!   `args` (`{}` when absent).
//!
//! An event whose data has an `error` member is an error: no text.

use serde_json::Value;

/// The dialects read here (the peer knows which API it called; `None` detects per event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueDialect {
    Anthropic,
    Responses,
    Gemini,
}

impl ValueDialect {
    /// The dialect an event identifies (its type, else its data's `type` member, else a
    /// Gemini member), as `ssechunk::Dialect::detect` does for these three.
    fn detect(event_type: Option<&str>, v: &Value) -> Option<ValueDialect> {
        let of_type = |t: &str| match t {
            "message_start"
            | "content_block_start"
            | "content_block_delta"
            | "content_block_stop"
            | "message_delta"
            | "message_stop" => Some(ValueDialect::Anthropic),
            _ if t.starts_with("response.") => Some(ValueDialect::Responses),
            _ => None,
        };
        event_type
            .and_then(of_type)
            .or_else(|| v.get("type").and_then(Value::as_str).and_then(of_type))
            .or_else(|| {
                ["candidates", "usageMetadata", "promptFeedback"]
                    .iter()
                    .any(|k| v.get(k).is_some())
                    .then_some(ValueDialect::Gemini)
            })
    }
}

/// Text bytes of one event, or summed over a stream.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Texts {
    pub content: u64,
    pub reasoning: u64,
    pub tool_args: u64,
}

impl Texts {
    pub fn add(&mut self, other: Texts) {
        self.content += other.content;
        self.reasoning += other.reasoning;
        self.tool_args += other.tool_args;
    }
}

/// Reads the events of one stream (or of streams one after another).
#[derive(Debug)]
pub struct ValueReader {
    dialect: Option<ValueDialect>,
    fixed: bool,
    /// The Anthropic content blocks opened as `tool_use` in the message in progress.
    tool_blocks: Vec<u64>,
}

fn str_len(v: Option<&Value>) -> u64 {
    v.and_then(Value::as_str).map_or(0, |s| s.len() as u64)
}

impl ValueReader {
    /// A reader for `dialect`, or with `None` for the dialect each event identifies.
    pub fn new(dialect: Option<ValueDialect>) -> Self {
        Self {
            dialect,
            fixed: dialect.is_some(),
            tool_blocks: Vec::new(),
        }
    }

    /// One event: its type (`None` without an `event:` field) and data. `None` when the data is
    /// not JSON.
    pub fn read(&mut self, event_type: Option<&str>, data: &str) -> Option<Texts> {
        let v: Value = serde_json::from_str(data).ok()?;
        if !self.fixed
            && let Some(dialect) = ValueDialect::detect(event_type, &v)
            && self.dialect != Some(dialect)
        {
            self.dialect = Some(dialect);
            self.tool_blocks.clear();
        }
        let mut t = Texts::default();
        if v.get("error").is_some() {
            return Some(t);
        }
        let kind = v.get("type").and_then(Value::as_str).or(event_type);
        match self.dialect {
            Some(ValueDialect::Anthropic) => self.anthropic(kind, &v, &mut t),
            Some(ValueDialect::Responses) => {
                let delta = str_len(v.get("delta"));
                match kind {
                    Some("response.output_text.delta") => t.content += delta,
                    Some(
                        "response.reasoning_summary_text.delta" | "response.reasoning_text.delta",
                    ) => t.reasoning += delta,
                    Some(
                        "response.function_call_arguments.delta"
                        | "response.custom_tool_call_input.delta",
                    ) => t.tool_args += delta,
                    _ => {}
                }
            }
            Some(ValueDialect::Gemini) => {
                let candidates = v.get("candidates").and_then(Value::as_array);
                for candidate in candidates.into_iter().flatten() {
                    let parts = candidate
                        .get("content")
                        .and_then(|c| c.get("parts"))
                        .and_then(Value::as_array);
                    for part in parts.into_iter().flatten() {
                        let text = str_len(part.get("text"));
                        if part.get("thought").and_then(Value::as_bool) == Some(true) {
                            t.reasoning += text;
                        } else {
                            t.content += text;
                        }
                        if let Some(call) = part.get("functionCall") {
                            t.tool_args += match call.get("args") {
                                Some(args) if !args.is_null() => args.to_string().len() as u64,
                                _ => 2,
                            };
                        }
                    }
                }
            }
            None => {}
        }
        Some(t)
    }

    fn anthropic(&mut self, kind: Option<&str>, v: &Value, t: &mut Texts) {
        let index = v.get("index").and_then(Value::as_u64);
        match kind {
            Some("message_start") => self.tool_blocks.clear(),
            Some("content_block_start") => {
                let Some(block) = v.get("content_block") else {
                    return;
                };
                self.tool_blocks.retain(|&i| Some(i) != index);
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => t.content += str_len(block.get("text")),
                    Some("thinking") => t.reasoning += str_len(block.get("thinking")),
                    Some("tool_use") => self.tool_blocks.extend(index),
                    _ => {}
                }
            }
            Some("content_block_delta") => {
                let Some(delta) = v.get("delta") else {
                    return;
                };
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => t.content += str_len(delta.get("text")),
                    Some("thinking_delta") => t.reasoning += str_len(delta.get("thinking")),
                    Some("input_json_delta")
                        if index.is_some_and(|i| self.tool_blocks.contains(&i)) =>
                    {
                        t.tool_args += str_len(delta.get("partial_json"))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}
