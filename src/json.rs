//! JSON forms (feature `serde`): the hand-written `Serialize` impls (the borrowed views, and
//! the owned types whose contract shape is not their fields'), the assistant turn of the next
//! request, and typed tool-call arguments. The plain owned types derive theirs where they are
//! defined.
//!
//! The borrowed views serialise their strings as they are lent (no copy), in the shape of
//! `ssechunk chunks`' lines, with the normalised [`Usage`].

use std::borrow::Cow;

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    ApiError, Choice, ChoiceMessage, ChunkView, Dialect, ErrorCode, InvalidData, Message, ToolCall,
    ToolCallMessage,
};

impl Serialize for ToolCallMessage {
    /// The message contract's shape: `{"index", "id", "name", "arguments", "complete"}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ToolCallMessage", 5)?;
        s.serialize_field("index", &self.index)?;
        s.serialize_field("id", &self.id)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("arguments", &self.arguments)?;
        s.serialize_field("complete", &self.arguments_complete())?;
        s.end()
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl ToolCallMessage {
    /// Parses the arguments once into the caller's own type (feature `serde`).
    ///
    /// # Errors
    /// serde_json's error when the arguments are not one whole JSON value (the stream was
    /// cut: [`serde_json::Error::is_eof`]), or do not fit `T`.
    ///
    /// # Example
    /// ```
    /// use ssechunk::ToolCallMessage;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Weather {
    ///     city: String,
    /// }
    ///
    /// let call = ToolCallMessage { arguments: r#"{"city":"Paris"}"#.into(), ..Default::default() };
    /// let args: Weather = call.parse_arguments()?;
    /// assert_eq!(args.city, "Paris");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn parse_arguments<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.arguments)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl ChoiceMessage {
    /// This choice as the assistant turn of the next chat-completion request (feature
    /// `serde`), in OpenAI's documented request shape, so that an agent loop can append it to
    /// `messages` before the tool results:
    ///
    /// ```text
    /// {"role":"assistant","content":S|null,
    ///  "tool_calls":[{"id":S,"type":"function","function":{"name":S,"arguments":S}}]}
    /// ```
    ///
    /// - `role` is always `assistant` (a chat reply's only role).
    /// - `content` is the text; `null` when none came and there are tool calls (as OpenAI
    ///   sends and accepts it), `""` when there is neither.
    /// - `refusal` is added when the model refused.
    /// - `tool_calls` is left out when there are none; a call's missing id or name is `""`,
    ///   its type `function` unless the stream named another.
    /// - `reasoning_details` (OpenRouter's opaque reasoning) is added as the array received,
    ///   because OpenRouter asks for it back to continue a reasoning model's turn.
    /// - The reasoning text (`reasoning_content`/`reasoning`) is not sent back: OpenAI's request
    ///   has no such field, and DeepSeek rejects a request whose assistant turn carries it.
    ///
    /// # Example
    /// ```
    /// use ssechunk::{ChoiceMessage, ToolCallMessage};
    ///
    /// let choice = ChoiceMessage {
    ///     tool_calls: vec![ToolCallMessage {
    ///         id: Some("call_1".into()),
    ///         name: Some("get_weather".into()),
    ///         arguments: r#"{"city":"Paris"}"#.into(),
    ///         ..Default::default()
    ///     }],
    ///     ..Default::default()
    /// };
    /// assert_eq!(
    ///     choice.to_assistant_turn(),
    ///     serde_json::json!({
    ///         "role": "assistant",
    ///         "content": null,
    ///         "tool_calls": [{
    ///             "id": "call_1",
    ///             "type": "function",
    ///             "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
    ///         }],
    ///     })
    /// );
    /// ```
    pub fn to_assistant_turn(&self) -> Value {
        let mut turn = Map::new();
        turn.insert("role".into(), "assistant".into());
        let content = match &self.content {
            Some(text) => Value::from(text.as_str()),
            None if !self.tool_calls.is_empty() => Value::Null,
            None => Value::from(""),
        };
        turn.insert("content".into(), content);
        if let Some(refusal) = &self.refusal {
            turn.insert("refusal".into(), refusal.as_str().into());
        }
        if !self.tool_calls.is_empty() {
            let calls = self
                .tool_calls
                .iter()
                .map(|call| {
                    serde_json::json!({
                        "id": call.id.as_deref().unwrap_or(""),
                        "type": call.kind.as_deref().unwrap_or("function"),
                        "function": {
                            "name": call.name.as_deref().unwrap_or(""),
                            "arguments": call.arguments,
                        },
                    })
                })
                .collect();
            turn.insert("tool_calls".into(), Value::Array(calls));
        }
        if let Some(details) = self
            .reasoning_details
            .as_deref()
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
        {
            turn.insert("reasoning_details".into(), details);
        }
        Value::Object(turn)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl Message {
    /// The reply as the items that continue the conversation in the next request, in the
    /// request shape of the stream's [`Dialect`] (feature `serde`), built from the first
    /// choice (`choices[0]`). An agent loop appends them, in order, to the next request's list
    /// (`messages`, `input` or `contents`), then its tool results.
    ///
    /// - [`Dialect::Chat`]: one item, [`ChoiceMessage::to_assistant_turn`].
    /// - [`Dialect::Anthropic`]: one item, `{"role":"assistant","content":[blocks]}`: first the
    ///   signed `thinking` and `redacted_thinking` blocks kept in
    ///   [`ChoiceMessage::reasoning_details`], as received and in order, then
    ///   `{"type":"text","text":S}` when the text holds more than whitespace (the API
    ///   rejects a text block of whitespace only, which Claude often streams before a
    ///   `tool_use`), then `{"type":"tool_use","id":S,"name":S,"input":{..}}` per tool call.
    ///   Server-tool blocks (`server_tool_use`, `web_search_tool_result`) are not kept in the
    ///   message, so they are not sent back, and the text goes back as one block (its
    ///   citations are not kept either).
    /// - [`Dialect::Responses`]: several input items: when there is text or a refusal,
    ///   `{"type":"message","role":"assistant","content":[..]}` with an
    ///   `{"type":"output_text","text":S}` part for the text and a
    ///   `{"type":"refusal","refusal":S}` part for the refusal; then
    ///   `{"type":"function_call","call_id":S,"name":S,"arguments":S}` per tool call (the
    ///   call's id is the item's `call_id`; the arguments are sent as received, even cut).
    ///   The `reasoning` items kept in `reasoning_details` are not among them: the API pairs
    ///   a reasoning item with the item that followed it in the output by that item's `id`
    ///   (`msg_...`, `fc_...`), which the message does not keep, and it rejects a reasoning
    ///   item sent without its following item ("provided without its required following
    ///   item"). To carry the reasoning into the next turn, send `previous_response_id`, or
    ///   build the items from the raw events (`DeltaStream::raw`). A
    ///   `custom_tool_call` is not told apart from a function call in the message, and comes
    ///   back as a `function_call`.
    /// - [`Dialect::Gemini`]: one item, `{"role":"model","parts":[..]}`: a `{"text":S}` part
    ///   for the text, then a `{"functionCall":{"name":S,"args":{..},"id":S}}` part per tool
    ///   call (`id` only when the call had one). The parts that carried a `thoughtSignature`
    ///   (kept in `reasoning_details`) go back in their place with their signature, not
    ///   beside it: a signed `functionCall` part is sent as received instead of the part built
    ///   for its call (matched by name and arguments, in order); the signature of a signed text
    ///   part goes on the text part (the first one, when several came; a signed text part
    ///   without text is sent alone when the reply has no text). Thought-summary parts
    ///   (`"thought":true`) are not sent back.
    ///
    /// The reasoning text (thinking, reasoning summaries, thought summaries) is not sent back
    /// on its own: what a provider needs back is in the opaque `reasoning_details`.
    ///
    /// # Cut arguments
    /// Anthropic's `input` and Gemini's `args` are JSON objects, not text. They are the
    /// arguments parsed when these are one whole JSON object, and `{}` otherwise: when no
    /// fragment came, when the stream was cut inside them, or when they are another JSON
    /// value. The turn stays a request the provider accepts, and the call keeps its id, so
    /// the tool result can still answer it (and say that the call was cut:
    /// [`ToolCallMessage::arguments_complete`] tells). Chat and Responses carry the arguments
    /// as text, sent as received.
    ///
    /// # Empty message
    /// Without a choice, the first choice is taken as empty: chat gives
    /// `{"role":"assistant","content":""}`, Anthropic `{"role":"assistant","content":[]}`,
    /// Gemini `{"role":"model","parts":[]}` and Responses no item. The providers reject an
    /// empty turn before other messages: check the message's [`Message::ending`] and
    /// [`Message::errors`] before continuing a conversation.
    ///
    /// # Example
    /// ```
    /// use ssechunk::{Accumulator, ChunkStream};
    /// use serde_json::json;
    ///
    /// let mut stream = ChunkStream::new();
    /// stream.feed(
    ///     concat!(
    ///         "event: message_start\n",
    ///         "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"role\":\"assistant\"}}\n\n",
    ///         "event: content_block_start\n",
    ///         "data: {\"type\":\"content_block_start\",\"index\":0,",
    ///         "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
    ///         "event: content_block_delta\n",
    ///         "data: {\"type\":\"content_block_delta\",\"index\":0,",
    ///         "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}\n\n",
    ///         "event: content_block_stop\n",
    ///         "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    ///         "event: message_stop\n",
    ///         "data: {\"type\":\"message_stop\"}\n\n",
    ///     )
    ///     .as_bytes(),
    /// );
    /// stream.finish();
    /// let mut acc = Accumulator::new();
    /// while let Some(outcome) = stream.next_outcome() {
    ///     acc.push_outcome(&outcome?);
    /// }
    /// assert_eq!(
    ///     acc.message().to_assistant_turn(),
    ///     vec![json!({
    ///         "role": "assistant",
    ///         "content": [
    ///             {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ///         ],
    ///     })]
    /// );
    /// # Ok::<(), ssechunk::Error>(())
    /// ```
    pub fn to_assistant_turn(&self) -> Vec<Value> {
        let empty = ChoiceMessage::default();
        let choice = self.choices.first().unwrap_or(&empty);
        match self.dialect {
            Dialect::Chat => vec![choice.to_assistant_turn()],
            Dialect::Anthropic => vec![anthropic_turn(choice)],
            Dialect::Responses => responses_items(choice),
            Dialect::Gemini => vec![gemini_turn(choice)],
        }
    }
}

/// The elements of a choice's `reasoning_details` (nothing when it has none, or when they
/// are not a JSON array).
fn details_of(choice: &ChoiceMessage) -> Vec<Value> {
    match choice
        .reasoning_details
        .as_deref()
        .map(serde_json::from_str::<Value>)
    {
        Some(Ok(Value::Array(details))) => details,
        _ => Vec::new(),
    }
}

/// A call's arguments as a JSON object: the arguments parsed when they are one, else `{}`
/// (none came, the stream cut them, or they are another value).
fn arguments_object(call: &ToolCallMessage) -> Value {
    match serde_json::from_str::<Value>(&call.arguments) {
        Ok(args @ Value::Object(_)) => args,
        _ => Value::Object(Map::new()),
    }
}

/// The text of a choice, `None` when it is absent or empty.
fn text_of(choice: &ChoiceMessage) -> Option<&str> {
    choice.content.as_deref().filter(|text| !text.is_empty())
}

/// Anthropic Messages: `{"role":"assistant","content":[thinking..., text, tool_use...]}`.
fn anthropic_turn(choice: &ChoiceMessage) -> Value {
    let mut blocks = details_of(choice);
    if let Some(text) = text_of(choice).filter(|text| !text.trim().is_empty()) {
        blocks.push(serde_json::json!({"type": "text", "text": text}));
    }
    blocks.extend(choice.tool_calls.iter().map(|call| {
        serde_json::json!({
            "type": "tool_use",
            "id": call.id.as_deref().unwrap_or(""),
            "name": call.name.as_deref().unwrap_or(""),
            "input": arguments_object(call),
        })
    }));
    serde_json::json!({"role": "assistant", "content": blocks})
}

/// OpenAI Responses: the assistant `message`, `function_call` items.
fn responses_items(choice: &ChoiceMessage) -> Vec<Value> {
    let mut items = Vec::new();
    let mut parts = Vec::new();
    if let Some(text) = text_of(choice) {
        parts.push(serde_json::json!({"type": "output_text", "text": text}));
    }
    if let Some(refusal) = choice.refusal.as_deref().filter(|r| !r.is_empty()) {
        parts.push(serde_json::json!({"type": "refusal", "refusal": refusal}));
    }
    if !parts.is_empty() {
        items.push(serde_json::json!({"type": "message", "role": "assistant", "content": parts}));
    }
    items.extend(choice.tool_calls.iter().map(|call| {
        serde_json::json!({
            "type": "function_call",
            "call_id": call.id.as_deref().unwrap_or(""),
            "name": call.name.as_deref().unwrap_or(""),
            "arguments": call.arguments,
        })
    }));
    items
}

/// Gemini: `{"role":"model","parts":[text, functionCall...]}`, the signed parts in place.
fn gemini_turn(choice: &ChoiceMessage) -> Value {
    let mut calls: Vec<Value> = choice
        .tool_calls
        .iter()
        .map(|call| {
            let mut function = Map::new();
            function.insert("name".into(), call.name.as_deref().unwrap_or("").into());
            function.insert("args".into(), arguments_object(call));
            if let Some(id) = call.id.as_deref() {
                function.insert("id".into(), id.into());
            }
            serde_json::json!({ "functionCall": function })
        })
        .collect();
    // Which built call parts a signed part has replaced.
    let mut replaced = vec![false; calls.len()];
    let mut text_signature = None;
    let mut signed_texts = Vec::new();
    for detail in details_of(choice) {
        if detail.get("thought").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        if let Some(call) = detail.get("functionCall") {
            let matching = calls.iter().zip(&replaced).position(|(built, &done)| {
                !done
                    && built["functionCall"]["name"] == call["name"]
                    && built["functionCall"]["args"]
                        == *call.get("args").unwrap_or(&Value::Object(Map::new()))
            });
            if let Some(at) = matching {
                calls[at] = detail;
                replaced[at] = true;
            }
        } else if detail.get("text").is_some() {
            if text_signature.is_none() {
                text_signature = detail.get("thoughtSignature").cloned();
            }
            signed_texts.push(detail);
        }
    }
    let mut parts = Vec::new();
    match text_of(choice) {
        Some(text) => {
            let mut part = Map::new();
            part.insert("text".into(), text.into());
            if let Some(signature) = text_signature {
                part.insert("thoughtSignature".into(), signature);
            }
            parts.push(Value::Object(part));
        }
        None => parts.extend(signed_texts),
    }
    parts.extend(calls);
    serde_json::json!({"role": "model", "parts": parts})
}

impl Serialize for ChunkView<'_> {
    /// `{"id", "model", "created", "system_fingerprint", "choices", "usage"}`, every key
    /// present (`null` when absent), strings borrowed.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ChunkView", 6)?;
        s.serialize_field("id", &self.id())?;
        s.serialize_field("model", &self.model())?;
        s.serialize_field("created", &self.created())?;
        s.serialize_field("system_fingerprint", &self.system_fingerprint())?;
        s.serialize_field("choices", &Choices(self))?;
        s.serialize_field("usage", &self.usage())?;
        s.end()
    }
}

/// A chunk's choices as a sequence, without collecting them.
struct Choices<'c, 'a>(&'c ChunkView<'a>);

impl Serialize for Choices<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.choices())
    }
}

impl Serialize for Choice<'_, '_> {
    /// `{"index", "role", "content", "reasoning", "refusal", "tool_calls", "finish_reason"}`,
    /// every key present, plus `reasoning_details` (its JSON text, as a string) when the
    /// delta had it.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let details = self.reasoning_details();
        let mut s = serializer.serialize_struct("Choice", 7 + usize::from(details.is_some()))?;
        s.serialize_field("index", &self.index())?;
        s.serialize_field("role", &self.role())?;
        s.serialize_field("content", &self.content())?;
        s.serialize_field("reasoning", &self.reasoning())?;
        s.serialize_field("refusal", &self.refusal())?;
        if let Some(details) = details {
            s.serialize_field("reasoning_details", details)?;
        } else {
            s.skip_field("reasoning_details")?;
        }
        s.serialize_field("tool_calls", self.tool_calls())?;
        s.serialize_field("finish_reason", &self.finish_reason())?;
        s.end()
    }
}

impl Serialize for ToolCall<'_> {
    /// `{"index", "id", "name", "arguments"}`, every key present (`index` is `null` when the
    /// fragment had none).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ToolCall", 4)?;
        s.serialize_field("index", &self.index())?;
        s.serialize_field("id", &self.id())?;
        s.serialize_field("name", &self.name())?;
        s.serialize_field("arguments", &self.arguments())?;
        s.end()
    }
}

impl Serialize for ApiError<'_> {
    /// The message contract's error shape, `{"message", "type", "code"}`, as
    /// [`crate::ErrorMessage`] writes it.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ApiError", 3)?;
        s.serialize_field("message", &self.message())?;
        s.serialize_field("type", &self.kind())?;
        s.serialize_field("code", &self.code())?;
        s.end()
    }
}

impl Serialize for ErrorCode<'_> {
    /// The string or the integer itself.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            ErrorCode::Str(code) => serializer.serialize_str(code),
            ErrorCode::Int(code) => serializer.serialize_i64(code),
        }
    }
}

/// The field names [`InvalidData::UnexpectedShape`] can carry, for reading one back.
const SHAPE_FIELDS: &[&str] = &[
    "choices",
    "index",
    "finish_reason",
    "delta",
    "content",
    "refusal",
    "reasoning_content",
    "reasoning",
    "reasoning_details",
    "tool_calls",
    "id",
    "function",
    "name",
    "arguments",
    "usage",
];

/// [`InvalidData`]'s serialised form.
#[derive(Serialize, Deserialize)]
#[serde(rename = "InvalidData", rename_all = "snake_case")]
enum InvalidForm<'a> {
    NotJson,
    NotObject,
    UnexpectedShape { field: Cow<'a, str> },
}

impl Serialize for InvalidData {
    /// `"not_json"`, `"not_object"` or `{"unexpected_shape":{"field":S}}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            InvalidData::NotJson => InvalidForm::NotJson,
            InvalidData::NotObject => InvalidForm::NotObject,
            InvalidData::UnexpectedShape { field } => InvalidForm::UnexpectedShape {
                field: Cow::Borrowed(field),
            },
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for InvalidData {
    /// Reads what [`InvalidData`]'s `Serialize` writes; an `unexpected_shape` field must be
    /// one the decoder names.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match InvalidForm::<'_>::deserialize(deserializer)? {
            InvalidForm::NotJson => InvalidData::NotJson,
            InvalidForm::NotObject => InvalidData::NotObject,
            InvalidForm::UnexpectedShape { field } => {
                let field = SHAPE_FIELDS
                    .iter()
                    .copied()
                    .find(|known| *known == field)
                    .ok_or_else(|| de::Error::unknown_variant(&field, SHAPE_FIELDS))?;
                InvalidData::UnexpectedShape { field }
            }
        })
    }
}
