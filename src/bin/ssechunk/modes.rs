//! The decoding modes: `events`, `chunks`, `message`, `stats` and `text`.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::time::Instant;

use std::borrow::Cow;

use serde::Serialize;
use ssechunk::{
    Accumulator, ApiError, ChunkStream, ChunkView, Config, Dialect, ErrorCode, Event, InvalidData,
    Outcome, Part, Parts, Payload, Usage,
};

use crate::{Args, report_incomplete};

/// How many problems of one kind are written out in full; the rest are counted.
const SHOWN: u64 = 10;

/// The problems of a stream, reported on stderr one line each, up to [`SHOWN`] of a kind.
///
/// Ignored lines are held until the next event or the end of input: when the lines after the
/// last event turn out to be a plain JSON error body, only the error is reported, not its
/// lines one by one as well.
#[derive(Default)]
struct Problems {
    errors: u64,
    invalid: u64,
    ignored: u64,
    oversized: u64,
    /// The reports of the ignored lines since the last event (at most those still to be
    /// shown), and how many lines that is.
    held: Vec<String>,
    held_lines: u64,
}

/// At most this many bytes of an event or line are quoted in a report.
const QUOTED: usize = 200;

/// `bytes` as one line of text: control characters (line ends, terminal escapes) escaped as
/// Rust writes them, at most [`QUOTED`] bytes of it.
fn quote(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTED)];
    let mut text: String = String::from_utf8_lossy(cut)
        .chars()
        .flat_map(|c| {
            let escaped = c.is_control().then(|| c.escape_default());
            escaped
                .into_iter()
                .flatten()
                .chain((!c.is_control()).then_some(c))
        })
        .collect();
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
        self.held_lines += 1;
        if self.ignored + self.held_lines <= SHOWN {
            self.held.push(format!(
                "ssechunk: ignored a line that is no SSE field: {}",
                quote(line)
            ));
        }
    }

    /// Reports the ignored lines held so far.
    #[inline]
    fn release_held(&mut self) {
        if self.held_lines > 0 {
            self.report_held();
        }
    }

    #[cold]
    fn report_held(&mut self) {
        for line in self.held.drain(..) {
            eprintln!("{line}");
        }
        self.ignored += std::mem::take(&mut self.held_lines);
    }

    /// Reports an outcome's problem, if it has one. `finished`: the input has ended (an
    /// error then, after ignored lines, is the plain JSON error body those lines formed).
    #[inline]
    fn note(&mut self, outcome: &Outcome<'_>, finished: bool) {
        // Most outcomes are events of the stream's dialect, with nothing held before them.
        if self.held_lines == 0
            && let Outcome::Event {
                payload: Payload::Parts(_) | Payload::Chunk(_) | Payload::Done,
                ..
            } = outcome
        {
            return;
        }
        self.note_other(outcome, finished);
    }

    #[cold]
    fn note_other(&mut self, outcome: &Outcome<'_>, finished: bool) {
        match outcome {
            Outcome::Ignored(_) => {}
            Outcome::Error(_) if finished && self.held_lines > 0 => {
                self.held.clear();
                self.held_lines = 0;
            }
            _ => self.release_held(),
        }
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

    /// An event over the size limit, or another error of the stream.
    fn stream_error(&mut self, error: &ssechunk::Error) {
        self.oversized += 1;
        if self.oversized <= SHOWN {
            eprintln!("ssechunk: {error}");
        }
    }

    /// Counts what was not written out.
    fn summary(&self) {
        for (count, kind) in [
            (self.errors, "API errors"),
            (self.invalid, "invalid events"),
            (self.ignored, "ignored lines"),
            (self.oversized, "events over the size limit"),
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
    let config = Config::new()
        .max_event_bytes(args.max_event_bytes)
        .dialect(args.dialect.fixed());
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
        // By reference: an outcome is a few hundred bytes, not worth a copy per event.
        while let Some(ref outcome) = stream.next_outcome() {
            match outcome {
                Ok(outcome) => {
                    problems.note(outcome, done);
                    on_outcome(out, outcome)?;
                }
                Err(e) => problems.stream_error(e),
            }
        }
        out.flush()?;
    }
    problems.release_held();
    problems.summary();
    Ok(())
}

/// Appends `value` to `line` as one JSON line (the CLI's lines go through serde_json over
/// the library's `serde` impls, which borrow every string).
fn json_line(line: &mut Vec<u8>, value: &impl Serialize) -> io::Result<()> {
    line.clear();
    serde_json::to_writer(&mut *line, value)?;
    line.push(b'\n');
    Ok(())
}

/// A line of `ssechunk events`.
#[derive(Serialize)]
struct EventLine<'a> {
    event: Cow<'a, str>,
    data: Cow<'a, str>,
    id: Cow<'a, str>,
}

/// `ssechunk events`: one JSON line per dispatched event.
pub fn events(args: &Args, input: impl Read, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let mut line = Vec::new();
    drive(args, input, &mut out, |out, outcome| {
        if let Outcome::Event { event, .. } = outcome {
            let value = EventLine {
                event: event.event_type_lossy(),
                data: event.data_lossy(),
                id: event.id_lossy(),
            };
            json_line(&mut line, &value)?;
            out.write_all(&line)?;
        }
        Ok(())
    })
}

/// The wire's usage names, as the `chunks` mode mirrors them.
#[derive(Serialize)]
struct WireUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

/// A chunk's choices, serialised one by one (the library's `Choice` impl).
struct Choices<'c, 'a>(&'c ChunkView<'a>);

impl Serialize for Choices<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.choices())
    }
}

/// A chunk line of `ssechunk chunks`: the raw chat-chunk view, usage under the wire's names.
#[derive(Serialize)]
struct ChunkLine<'c, 'a> {
    id: Option<&'a str>,
    model: Option<&'a str>,
    created: Option<u64>,
    choices: Choices<'c, 'a>,
    usage: Option<WireUsage>,
}

impl<'c, 'a> ChunkLine<'c, 'a> {
    fn new(chunk: &'c ChunkView<'a>) -> Self {
        ChunkLine {
            id: chunk.id(),
            model: chunk.model(),
            created: chunk.created(),
            choices: Choices(chunk),
            usage: chunk.usage().map(|u| WireUsage {
                prompt_tokens: u.input_tokens,
                completion_tokens: u.output_tokens,
                total_tokens: u.total_tokens,
            }),
        }
    }
}

/// The other lines of `ssechunk chunks`.
#[derive(Serialize)]
#[serde(untagged)]
enum OtherLine<'e, 'a> {
    Done { done: bool },
    Invalid { invalid: bool },
    Error { error: &'e ApiError<'a> },
}

/// The parts of one event: `{"dialect": D, "parts": [...]}`.
#[derive(serde::Serialize)]
struct PartsLine<'p, 'a> {
    dialect: Dialect,
    parts: &'p [Part<'a>],
}

impl<'p, 'a> PartsLine<'p, 'a> {
    fn new(parts: &'p Parts<'a>) -> Self {
        Self {
            dialect: parts.dialect(),
            parts: parts.as_slice(),
        }
    }
}

/// `ssechunk deltas`: one JSON line per event, in the vocabulary every dialect shares:
/// `{"dialect": D, "parts": [...]}` (a Chat Completions chunk is written as the parts it
/// makes), `{"done": true}`, `{"error": {...}}` or `{"invalid": true}`.
pub fn deltas(args: &Args, input: impl Read, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let mut line = Vec::new();
    // Reused from one chunk to the next (emptied, then taken with the event's lifetime).
    let mut storage: Vec<Part<'static>> = Vec::new();
    drive(args, input, &mut out, |out, outcome| {
        match outcome {
            Outcome::Event { payload, .. } => match payload {
                Payload::Done => json_line(&mut line, &OtherLine::Done { done: true }),
                Payload::Invalid(_) => json_line(&mut line, &OtherLine::Invalid { invalid: true }),
                Payload::ApiError(error) => json_line(&mut line, &OtherLine::Error { error }),
                Payload::Chunk(chunk) => {
                    let mut parts = recycle(std::mem::take(&mut storage));
                    chunk_parts(chunk, &mut parts);
                    let written = json_line(
                        &mut line,
                        &PartsLine {
                            dialect: Dialect::Chat,
                            parts: &parts,
                        },
                    );
                    storage = recycle(parts);
                    written
                }
                Payload::Parts(parts) => json_line(&mut line, &PartsLine::new(parts)),
            },
            Outcome::Error(error) => json_line(&mut line, &OtherLine::Error { error }),
            _ => return Ok(()),
        }?;
        out.write_all(&line)
    })
}

/// Reuses a vector's allocation for the same type with another lifetime: emptied, an empty
/// iterator collects in place.
fn recycle<'a, 'b>(mut parts: Vec<Part<'a>>) -> Vec<Part<'b>> {
    parts.clear();
    parts
        .into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

/// A chat chunk as parts (a tool-call fragment without an index is written as call 0's,
/// as the chunk gives no more; `message` assigns such fragments).
fn chunk_parts<'a>(chunk: &ChunkView<'a>, parts: &mut Vec<Part<'a>>) {
    if chunk.id().is_some() || chunk.model().is_some() {
        parts.push(Part::Metadata {
            id: chunk.id(),
            model: chunk.model(),
        });
    }
    for c in chunk.choices() {
        let choice = c.index();
        if let Some(role) = c.role() {
            parts.push(Part::Role { choice, role });
        }
        if let Some(text) = c.reasoning() {
            parts.push(Part::Reasoning {
                choice,
                text,
                new_part: false,
            });
        }
        if let Some(text) = c.content() {
            parts.push(Part::Text { choice, text });
        }
        if let Some(text) = c.refusal() {
            parts.push(Part::Refusal { choice, text });
        }
        for call in c.tool_calls() {
            let index = call.index().unwrap_or(0);
            if call.id().is_some() || call.name().is_some() {
                parts.push(Part::ToolCallStart {
                    choice,
                    index,
                    id: call.id(),
                    name: call.name(),
                });
            }
            if let Some(fragment) = call.arguments() {
                parts.push(Part::ToolCallArguments {
                    choice,
                    index,
                    fragment,
                });
            }
        }
        if let (Some(reason), Some(finish)) = (c.finish_reason(), c.finish()) {
            parts.push(Part::Finish {
                choice,
                finish,
                reason,
            });
        }
    }
    if let Some(usage) = chunk.usage() {
        parts.push(Part::Usage { usage });
    }
}

/// `ssechunk chunks`: one JSON line per dispatched event, and per error found outside one.
pub fn chunks(args: &Args, input: impl Read, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let mut line = Vec::new();
    drive(args, input, &mut out, |out, outcome| {
        match outcome {
            Outcome::Event { payload, .. } => match payload {
                Payload::Done => json_line(&mut line, &OtherLine::Done { done: true }),
                Payload::Invalid(_) => json_line(&mut line, &OtherLine::Invalid { invalid: true }),
                Payload::ApiError(error) => json_line(&mut line, &OtherLine::Error { error }),
                Payload::Chunk(chunk) => json_line(&mut line, &ChunkLine::new(chunk)),
                // Another dialect's event: its parts, as `deltas` writes them.
                Payload::Parts(parts) => json_line(&mut line, &PartsLine::new(parts)),
            },
            Outcome::Error(error) => json_line(&mut line, &OtherLine::Error { error }),
            _ => return Ok(()),
        }?;
        out.write_all(&line)
    })
}

/// `ssechunk message`: the assembled message as one JSON line, the library's
/// `Accumulator::message` as serde writes it.
pub fn message(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let mut acc = Accumulator::new();
    drive(args, input, &mut io::sink(), |_, outcome| {
        acc.push_outcome(outcome);
        Ok(())
    })?;
    let mut line = Vec::new();
    json_line(&mut line, &acc.message())?;
    out.write_all(&line)
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
            Payload::Parts(parts) => {
                s.chunks += 1;
                for part in parts.iter() {
                    match *part {
                        Part::Text { text, .. } => s.content_bytes += text.len() as u64,
                        Part::Reasoning { text, .. } => s.reasoning_bytes += text.len() as u64,
                        Part::ToolCallArguments { fragment, .. } => {
                            s.tool_argument_bytes += fragment.len() as u64
                        }
                        Part::Usage { usage } => s.usage = Some(usage),
                        Part::Error { .. } => s.errors += 1,
                        Part::Done => {
                            s.done += 1;
                            s.end_message();
                        }
                        _ => {}
                    }
                }
            }
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

/// A tool call as `text` shows it: `[tool call NAME ARGUMENTS]` on a line of its own.
fn print_call(out: &mut impl Write, call: &ssechunk::ToolCallMessage) -> io::Result<()> {
    writeln!(
        out,
        "[tool call {} {}]",
        call.name.as_deref().unwrap_or("unnamed"),
        call.arguments
    )
}

/// `ssechunk text`: choice 0's reply as it streams, each of its tool calls as soon as it is
/// complete (`[tool call NAME ARGUMENTS]` on a line of its own), with `--reasoning` its
/// reasoning on stderr as it streams, and a summary on stderr. Flushed per read.
pub fn text(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let mut acc = Accumulator::new();
    let mut err = io::stderr();
    // Whether stdout is at the start of a line, and whether a tool call was printed last.
    let (mut line_start, mut call_last) = (true, false);
    // The indexes of choice 0's calls printed, and whether reasoning went to stderr.
    let mut printed: Vec<u64> = Vec::new();
    let mut reasoned = false;
    drive(args, input, &mut out, |out, outcome| {
        if let Outcome::Event {
            payload: Payload::Parts(parts),
            ..
        } = outcome
        {
            for part in parts.iter() {
                match *part {
                    Part::Reasoning {
                        choice: 0, text, ..
                    } if args.reasoning => {
                        err.write_all(text.as_bytes())?;
                        reasoned |= !text.is_empty();
                    }
                    Part::Text { choice: 0, text } if !text.is_empty() => {
                        out.write_all(text.as_bytes())?;
                        (line_start, call_last) = (text.ends_with('\n'), false);
                    }
                    _ => {}
                }
            }
        }
        if let Outcome::Event {
            payload: Payload::Chunk(chunk),
            ..
        } = outcome
        {
            // Choices interleave when `n` > 1: only choice 0 is printed, so that the text is
            // one the model wrote.
            for choice in chunk.choices().filter(|c| c.index() == 0) {
                if args.reasoning
                    && let Some(text) = choice.reasoning()
                {
                    err.write_all(text.as_bytes())?;
                    reasoned |= !text.is_empty();
                }
                if let Some(text) = choice.content().filter(|t| !t.is_empty()) {
                    out.write_all(text.as_bytes())?;
                    (line_start, call_last) = (text.ends_with('\n'), false);
                }
            }
        }
        acc.push_outcome(outcome);
        for (_, call) in acc.completed_calls().filter(|(choice, _)| *choice == 0) {
            if !line_start {
                writeln!(out)?;
            }
            print_call(out, call)?;
            printed.push(call.index);
            (line_start, call_last) = (true, true);
        }
        Ok(())
    })?;
    // Calls the stream never closed (it ended without a finish reason or `[DONE]`) are shown
    // too; the summary says whether their arguments are whole.
    let open: Vec<_> = acc
        .choices()
        .iter()
        .filter(|c| c.index == 0)
        .flat_map(|c| &c.tool_calls)
        .filter(|call| !printed.contains(&call.index))
        .collect();
    for call in open {
        if !line_start {
            writeln!(out)?;
        }
        print_call(&mut out, call)?;
        (line_start, call_last) = (true, true);
    }
    if !call_last {
        writeln!(out)?;
    }
    out.flush()?;
    if reasoned {
        // The reasoning ends its own line before the summary.
        eprintln!();
    }
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
