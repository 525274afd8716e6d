//! The decoding modes: `events`, `chunks`, `message`, `stats` and `text`.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::time::Instant;

use ssechunk::{
    Accumulator, ApiError, ChoiceMessage, ChunkStream, ChunkView, Config, ErrorCode, ErrorMessage,
    Event, InvalidData, Outcome, OwnedErrorCode, Payload, Usage,
};

use crate::{Args, json, report_incomplete};

/// How many problems of one kind are written out in full; the rest are counted.
const SHOWN: u64 = 10;

/// The problems of a stream, reported on stderr one line each, up to [`SHOWN`] of a kind.
#[derive(Default)]
struct Problems {
    errors: u64,
    invalid: u64,
    ignored: u64,
}

/// At most this many bytes of an event or line are quoted in a report.
const QUOTED: usize = 200;

fn quote(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTED)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if cut.len() < bytes.len() {
        text.push_str("...");
    }
    text
}

impl Problems {
    fn error(&mut self, error: &ApiError<'_>) {
        self.errors += 1;
        if self.errors <= SHOWN {
            let mut line = format!(
                "ssechunk: the API sent an error: {}",
                error.message().unwrap_or("(no message)")
            );
            if let Some(kind) = error.kind() {
                let _ = write!(line, " (type {kind})");
            }
            match error.code() {
                Some(ErrorCode::Str(code)) => {
                    let _ = write!(line, " (code {code})");
                }
                Some(ErrorCode::Int(code)) => {
                    let _ = write!(line, " (code {code})");
                }
                None => {}
            }
            eprintln!("{line}");
        }
    }

    fn invalid(&mut self, why: &InvalidData, event: &Event<'_>) {
        self.invalid += 1;
        if self.invalid <= SHOWN {
            eprintln!("ssechunk: invalid event ({why}): {}", quote(event.data()));
        }
    }

    fn ignored(&mut self, line: &[u8]) {
        self.ignored += 1;
        if self.ignored <= SHOWN {
            eprintln!(
                "ssechunk: ignored a line that is no SSE field: {}",
                quote(line)
            );
        }
    }

    /// Reports an outcome's problem, if it has one.
    fn note(&mut self, outcome: &Outcome<'_>) {
        match outcome {
            Outcome::Event {
                payload: Payload::ApiError(e),
                ..
            }
            | Outcome::Error(e) => self.error(e),
            Outcome::Event {
                payload: Payload::Invalid(why),
                event,
            } => self.invalid(why, event),
            Outcome::Ignored(line) => self.ignored(line),
            Outcome::Incomplete(incomplete) => report_incomplete(incomplete),
            _ => {}
        }
    }

    /// Counts what was not written out.
    fn summary(&self) {
        for (count, kind) in [
            (self.errors, "API errors"),
            (self.invalid, "invalid events"),
            (self.ignored, "ignored lines"),
        ] {
            if count > SHOWN {
                eprintln!(
                    "ssechunk: {count} {kind} in all ({} more not shown)",
                    count - SHOWN
                );
            }
        }
    }
}

/// Feeds `input` to a [`ChunkStream`] in `read_size` reads, calling `on_outcome` for every
/// outcome and reporting the stream's problems on stderr. `out` is flushed once the outcomes
/// of each read are handled, so that what a read produced is written before the next read
/// blocks (one flush per read, not per event). The stream is fed through `spare` and `commit`
/// rather than a `ChunkReader`, which hides where one read ends.
pub(crate) fn drive<W: Write>(
    args: &Args,
    mut input: impl Read,
    out: &mut W,
    mut on_outcome: impl FnMut(&mut W, &Outcome<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let config = Config::new().max_event_bytes(args.max_event_bytes);
    let mut stream = ChunkStream::with_config(config);
    let mut problems = Problems::default();
    let mut done = false;
    while !done {
        match input.read(stream.spare(args.read_size)) {
            Ok(0) => {
                stream.finish();
                done = true;
            }
            Ok(n) => stream.commit(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        while let Some(outcome) = stream.next_outcome() {
            match outcome {
                Ok(outcome) => {
                    problems.note(&outcome);
                    on_outcome(out, &outcome)?;
                }
                Err(e) => eprintln!("ssechunk: {e}"),
            }
        }
        out.flush()?;
    }
    problems.summary();
    Ok(())
}

/// `ssechunk events`: one JSON line per dispatched event.
pub fn events(args: &Args, input: impl Read, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let mut line = String::new();
    drive(args, input, &mut out, |out, outcome| {
        if let Outcome::Event { event, .. } = outcome {
            line.clear();
            line.push_str("{\"event\":");
            json::string(&mut line, &event.event_type_lossy());
            line.push_str(",\"data\":");
            json::string(&mut line, &event.data_lossy());
            line.push_str(",\"id\":");
            json::string(&mut line, &event.id_lossy());
            line.push_str("}\n");
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    })
}

/// The wire's usage names, as the `chunks` mode mirrors them.
fn wire_usage_json(out: &mut String, usage: Option<Usage>) {
    match usage {
        Some(u) => {
            let _ = write!(
                out,
                "{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{}}}",
                u.input_tokens, u.output_tokens, u.total_tokens
            );
        }
        None => out.push_str("null"),
    }
}

/// The normalised usage of the message contract.
fn usage_json(out: &mut String, usage: Option<Usage>) {
    match usage {
        Some(u) => {
            let _ = write!(
                out,
                "{{\"input_tokens\":{},\"output_tokens\":{},\"total_tokens\":{},\"cached_input_tokens\":",
                u.input_tokens, u.output_tokens, u.total_tokens
            );
            json::opt_num(out, u.cached_input_tokens);
            out.push_str(",\"reasoning_tokens\":");
            json::opt_num(out, u.reasoning_tokens);
            out.push('}');
        }
        None => out.push_str("null"),
    }
}

fn chunk_json(out: &mut String, chunk: &ChunkView<'_>) {
    out.push_str("{\"id\":");
    json::opt_string(out, chunk.id());
    out.push_str(",\"model\":");
    json::opt_string(out, chunk.model());
    out.push_str(",\"created\":");
    json::opt_num(out, chunk.created());
    out.push_str(",\"choices\":[");
    for (i, choice) in chunk.choices().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"index\":{},\"role\":", choice.index());
        json::opt_string(out, choice.role());
        out.push_str(",\"content\":");
        json::opt_string(out, choice.content());
        out.push_str(",\"reasoning\":");
        json::opt_string(out, choice.reasoning());
        out.push_str(",\"refusal\":");
        json::opt_string(out, choice.refusal());
        out.push_str(",\"tool_calls\":[");
        for (j, call) in choice.tool_calls().iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str("{\"index\":");
            json::opt_num(out, call.index());
            out.push_str(",\"id\":");
            json::opt_string(out, call.id());
            out.push_str(",\"name\":");
            json::opt_string(out, call.name());
            out.push_str(",\"arguments\":");
            json::opt_string(out, call.arguments());
            out.push('}');
        }
        out.push_str("],\"finish_reason\":");
        json::opt_string(out, choice.finish_reason());
        out.push('}');
    }
    out.push_str("],\"usage\":");
    wire_usage_json(out, chunk.usage());
    out.push('}');
}

/// An error as the contract writes it: `{"message", "type", "code"}`.
fn error_json(out: &mut String, error: &ErrorMessage) {
    out.push_str("{\"message\":");
    json::opt_string(out, error.message.as_deref());
    out.push_str(",\"type\":");
    json::opt_string(out, error.kind.as_deref());
    out.push_str(",\"code\":");
    match &error.code {
        None => out.push_str("null"),
        Some(OwnedErrorCode::Str(s)) => json::string(out, s),
        Some(OwnedErrorCode::Int(n)) => {
            let _ = write!(out, "{n}");
        }
    }
    out.push('}');
}

/// `ssechunk chunks`: one JSON line per dispatched event, and per error found outside one.
pub fn chunks(args: &Args, input: impl Read, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let mut line = String::new();
    drive(args, input, &mut out, |out, outcome| {
        line.clear();
        match outcome {
            Outcome::Event { payload, .. } => match payload {
                Payload::Done => line.push_str("{\"done\":true}"),
                Payload::Invalid(_) => line.push_str("{\"invalid\":true}"),
                Payload::ApiError(e) => {
                    line.push_str("{\"error\":");
                    error_json(&mut line, &e.to_owned_error());
                    line.push('}');
                }
                Payload::Chunk(chunk) => chunk_json(&mut line, chunk),
            },
            Outcome::Error(e) => {
                line.push_str("{\"error\":");
                error_json(&mut line, &e.to_owned_error());
                line.push('}');
            }
            _ => return Ok(()),
        }
        line.push('\n');
        out.write_all(line.as_bytes())
    })
}

fn choice_json(line: &mut String, choice: &ChoiceMessage) {
    let _ = write!(line, "{{\"index\":{},\"role\":", choice.index);
    json::opt_string(line, choice.role.as_deref());
    line.push_str(",\"content\":");
    json::opt_string(line, choice.content.as_deref());
    line.push_str(",\"reasoning\":");
    json::opt_string(line, choice.reasoning.as_deref());
    line.push_str(",\"refusal\":");
    json::opt_string(line, choice.refusal.as_deref());
    line.push_str(",\"tool_calls\":[");
    let mut calls: Vec<_> = choice.tool_calls.iter().collect();
    calls.sort_by_key(|c| c.index);
    for (j, call) in calls.into_iter().enumerate() {
        if j > 0 {
            line.push(',');
        }
        let _ = write!(line, "{{\"index\":{},\"id\":", call.index);
        json::opt_string(line, call.id.as_deref());
        line.push_str(",\"name\":");
        json::opt_string(line, call.name.as_deref());
        line.push_str(",\"arguments\":");
        json::string(line, &call.arguments);
        let _ = write!(line, ",\"complete\":{}}}", call.arguments_complete());
    }
    line.push_str("],\"finish_reason\":");
    json::opt_string(line, choice.finish_reason.as_deref());
    line.push_str(",\"finish\":");
    json::opt_string(line, choice.finish.map(|f| f.as_str()));
    line.push('}');
}

/// `ssechunk message`: the assembled message as one JSON line.
pub fn message(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let mut acc = Accumulator::new();
    drive(args, input, &mut io::sink(), |_, outcome| {
        acc.push_outcome(outcome);
        Ok(())
    })?;
    let mut line = String::from("{\"dialect\":\"chat\",\"id\":");
    json::opt_string(&mut line, acc.id());
    line.push_str(",\"model\":");
    json::opt_string(&mut line, acc.model());
    line.push_str(",\"choices\":[");
    let mut choices: Vec<_> = acc.choices().iter().collect();
    choices.sort_by_key(|c| c.index);
    for (i, choice) in choices.into_iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        choice_json(&mut line, choice);
    }
    line.push_str("],\"usage\":");
    usage_json(&mut line, acc.usage());
    line.push_str(",\"errors\":[");
    for (i, error) in acc.errors().iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        error_json(&mut line, error);
    }
    let _ = write!(
        line,
        "],\"invalid\":{},\"ending\":\"{}\"}}",
        acc.invalid(),
        acc.ending().as_str()
    );
    writeln!(out, "{line}")
}

/// Counters of `ssechunk stats`.
#[derive(Default)]
struct Stats {
    events: u64,
    chunks: u64,
    done: u64,
    errors: u64,
    invalid: u64,
    content_bytes: u64,
    reasoning_bytes: u64,
    tool_argument_bytes: u64,
    input_tokens: u64,
    output_tokens: u64,
    total_tokens: u64,
    data_bytes: u64,
    /// The last usage of the message in progress.
    usage: Option<Usage>,
}

impl Stats {
    /// Ends the message in progress: its last usage counts.
    fn end_message(&mut self) {
        if let Some(u) = self.usage.take() {
            self.input_tokens += u.input_tokens;
            self.output_tokens += u.output_tokens;
            self.total_tokens += u.total_tokens;
        }
    }
}

fn len(s: Option<&str>) -> u64 {
    s.map_or(0, |s| s.len() as u64)
}

/// `ssechunk stats`: counts at full speed, no per-event output. Token counts are summed over
/// the messages of the input (a message ends at its `[DONE]` or at the end of the input),
/// each counted by its last usage.
pub fn stats(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let start = Instant::now();
    let mut s = Stats::default();
    drive(args, input, &mut io::sink(), |_, outcome| {
        let (event, payload) = match outcome {
            Outcome::Event { event, payload } => (event, payload),
            Outcome::Error(_) => {
                s.errors += 1;
                return Ok(());
            }
            _ => return Ok(()),
        };
        s.events += 1;
        s.data_bytes += event.data().len() as u64;
        match payload {
            Payload::Chunk(chunk) => {
                s.chunks += 1;
                for choice in chunk.choices() {
                    s.content_bytes += len(choice.content());
                    s.reasoning_bytes += len(choice.reasoning());
                    for call in choice.tool_calls() {
                        s.tool_argument_bytes += len(call.arguments());
                    }
                }
                if let Some(u) = chunk.usage() {
                    s.usage = Some(u);
                }
            }
            Payload::Done => {
                s.done += 1;
                s.end_message();
            }
            Payload::ApiError(_) => s.errors += 1,
            Payload::Invalid(_) => s.invalid += 1,
        }
        Ok(())
    })?;
    s.end_message();
    let seconds = start.elapsed().as_secs_f64();
    writeln!(
        out,
        "{{\"events\":{},\"chunks\":{},\"done\":{},\"errors\":{},\"invalid\":{},\"content_bytes\":{},\
         \"reasoning_bytes\":{},\"tool_argument_bytes\":{},\"input_tokens\":{},\
         \"output_tokens\":{},\"total_tokens\":{},\"data_bytes\":{},\"seconds\":{seconds:.6}}}",
        s.events,
        s.chunks,
        s.done,
        s.errors,
        s.invalid,
        s.content_bytes,
        s.reasoning_bytes,
        s.tool_argument_bytes,
        s.input_tokens,
        s.output_tokens,
        s.total_tokens,
        s.data_bytes,
    )
}

/// `ssechunk text`: choice 0's reply as it streams, flushed per event, and a summary on
/// stderr.
pub fn text(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let mut acc = Accumulator::new();
    drive(args, input, &mut out, |out, outcome| {
        if let Outcome::Event {
            payload: Payload::Chunk(chunk),
            ..
        } = outcome
        {
            // Choices interleave when `n` > 1: only choice 0 is printed, so that the text is
            // one the model wrote.
            for choice in chunk.choices().filter(|c| c.index() == 0) {
                if let Some(text) = choice.content() {
                    out.write_all(text.as_bytes())?;
                }
            }
        }
        acc.push_outcome(outcome);
        Ok(())
    })?;
    writeln!(out)?;
    out.flush()?;
    let first = acc.choices().iter().find(|c| c.index == 0);
    let finish = first
        .and_then(|c| c.finish_reason.as_deref())
        .unwrap_or("none");
    let usage = acc.usage().map_or(String::from("none"), |u| {
        format!(
            "{} input + {} output = {} tokens",
            u.input_tokens, u.output_tokens, u.total_tokens
        )
    });
    for choice in acc.choices() {
        for call in choice.tool_calls.iter().filter(|c| !c.arguments_complete()) {
            eprintln!(
                "ssechunk: choice {} tool call {} ({}): its arguments are incomplete: {}",
                choice.index,
                call.index,
                call.name.as_deref().unwrap_or("unnamed"),
                call.arguments
            );
        }
    }
    let others = match acc.choices().len() {
        0 | 1 => String::new(),
        n => format!("; {n} choices, choice 0 shown (`ssechunk message` has them all)"),
    };
    eprintln!(
        "[finish: {finish}; usage: {usage}; ended: {}; {} chunks, {} API errors, {} invalid events{others}]",
        acc.ending().as_str(),
        acc.chunks(),
        acc.errors().len(),
        acc.invalid()
    );
    Ok(())
}
