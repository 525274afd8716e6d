//! A slow reference SSE parser, written from the WHATWG "event stream interpretation" rules and
//! not from `src/framing.rs`, to check the real parser against.
//!
//! It works in separate passes over the whole input (drop the BOM, cut into lines, then apply
//! each line) so that each rule sits in one obvious place. It uses std only and nothing else from
//! the test tree, so a fuzz crate can include it with
//! `#[path = "../tests/common/reference.rs"] mod reference;`.
//!
//! It works on bytes, not decoded text: every byte that ends a line or splits a field is ASCII,
//! which a UTF-8 decoder never merges into a multi-byte sequence, so the decoded result of the
//! rules is the lossy decoding of this result.
//!
//! The event size limit is not modelled (the rules have none).

#![allow(dead_code)]

/// An owned frame, shared by the reference and the tests' runs of the real parser.
#[derive(Clone, PartialEq, Eq)]
pub enum OwnedFrame {
    /// A dispatched event.
    Event {
        event_type: Vec<u8>,
        data: Vec<u8>,
        id: Vec<u8>,
    },
    /// A comment's text (only when comments are asked for).
    Comment(Vec<u8>),
    /// A line the rules ignore (only when ignored lines are asked for).
    Ignored(Vec<u8>),
    /// The stream ended inside an event: the data so far (`None` when no data line had
    /// arrived) and the last, unterminated line.
    Incomplete {
        data: Option<Vec<u8>>,
        line: Vec<u8>,
    },
    /// The real parser reported an event over its size limit (never made by the reference).
    TooLarge,
}

impl std::fmt::Debug for OwnedFrame {
    // Byte strings print as escaped text so that a failing case can be read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |b: &[u8]| b.escape_ascii().to_string();
        match self {
            OwnedFrame::Event {
                event_type,
                data,
                id,
            } => write!(
                f,
                "Event({:?}, {:?}, id {:?})",
                s(event_type),
                s(data),
                s(id)
            ),
            OwnedFrame::Comment(text) => write!(f, "Comment({:?})", s(text)),
            OwnedFrame::Ignored(line) => write!(f, "Ignored({:?})", s(line)),
            OwnedFrame::Incomplete { data, line } => write!(
                f,
                "Incomplete(data {:?}, line {:?})",
                data.as_deref().map(s),
                s(line)
            ),
            OwnedFrame::TooLarge => write!(f, "TooLarge"),
        }
    }
}

/// Everything a whole stream produces: its frames in order, then the state left at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub frames: Vec<OwnedFrame>,
    pub last_id: Vec<u8>,
    pub retry: Option<u64>,
}

impl Parsed {
    /// The dispatched events only, as (type, data, id).
    pub fn events(&self) -> Vec<(&[u8], &[u8], &[u8])> {
        self.frames
            .iter()
            .filter_map(|f| match f {
                OwnedFrame::Event {
                    event_type,
                    data,
                    id,
                } => Some((&event_type[..], &data[..], &id[..])),
                _ => None,
            })
            .collect()
    }

    /// Whether the stream ended inside an event.
    pub fn incomplete(&self) -> bool {
        self.frames
            .iter()
            .any(|f| matches!(f, OwnedFrame::Incomplete { .. }))
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Cuts the input into its terminated lines and the unterminated rest (empty when the input
/// ends with a line end).
///
/// A line ends at CRLF, at LF, or at a CR not followed by LF. A CR that is the very last byte
/// ends its line: nothing can follow it any more.
pub fn split_lines(input: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\n' => {
                lines.push(&input[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                lines.push(&input[start..i]);
                i += 1;
                if i < input.len() && input[i] == b'\n' {
                    i += 1;
                }
                start = i;
            }
            _ => i += 1,
        }
    }
    (lines, &input[start..])
}

/// Parses a whole stream. With `comments`, comment lines come out as [`OwnedFrame::Comment`].
pub fn parse(input: &[u8], comments: bool) -> Parsed {
    parse_with(input, comments, false)
}

/// [`parse`], and with `ignored`, the lines the rules ignore come out as
/// [`OwnedFrame::Ignored`].
pub fn parse_with(input: &[u8], comments: bool, ignored: bool) -> Parsed {
    // The UTF-8 decoder drops one BOM, and only at the very start of the stream.
    let input = input.strip_prefix(BOM).unwrap_or(input);
    let (lines, rest) = split_lines(input);

    let mut frames = Vec::new();
    // Held as the rules hold it: every value followed by LF. "Empty" really means empty here,
    // while `data:` with no value leaves "\n".
    let mut data: Vec<u8> = Vec::new();
    let mut event_type: Vec<u8> = Vec::new();
    let mut last_id: Vec<u8> = Vec::new();
    let mut retry: Option<u64> = None;

    for line in lines {
        if line.is_empty() {
            if !data.is_empty() {
                data.pop(); // the LF after the last value
                let event_type = if event_type.is_empty() {
                    b"message".to_vec()
                } else {
                    event_type.clone()
                };
                frames.push(OwnedFrame::Event {
                    event_type,
                    data: data.clone(),
                    id: last_id.clone(),
                });
            }
            data.clear();
            event_type.clear();
            continue;
        }
        if line[0] == b':' {
            if comments {
                let text = &line[1..];
                let text = text.strip_prefix(b" ").unwrap_or(text);
                frames.push(OwnedFrame::Comment(text.to_vec()));
            }
            continue;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                data.extend_from_slice(value);
                data.push(b'\n');
            }
            b"event" => event_type = value.to_vec(),
            b"id" if !value.contains(&0) => last_id = value.to_vec(),
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All digits, so parsing can only fail by overflow, which the crate documents
                // as saturating.
                let text = std::str::from_utf8(value).expect("ASCII digits");
                retry = Some(text.parse().unwrap_or(u64::MAX));
            }
            // Any other name, and an `id` with NUL or a `retry` not all digits: ignored.
            _ => {
                if ignored {
                    frames.push(OwnedFrame::Ignored(line.to_vec()));
                }
            }
        }
    }

    // The rules drop an unfinished event silently; the crate reports it once instead.
    if !data.is_empty() || !rest.is_empty() {
        let data = if data.is_empty() {
            None
        } else {
            data.pop();
            Some(data)
        };
        frames.push(OwnedFrame::Incomplete {
            data,
            line: rest.to_vec(),
        });
    }

    Parsed {
        frames,
        last_id,
        retry,
    }
}
