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
    ApiError, Choice, ChoiceMessage, ChunkView, ErrorCode, InvalidData, ToolCall, ToolCallMessage,
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
