//! The decoding modes: `chunks`, `message`, `stats` and `text`.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::time::Instant;

use ssechunk::{
    Accumulator, ChunkStream, ChunkView, Config, Ending, Error, ErrorCode, Event, Outcome, Payload,
    Usage,
};

use crate::{Args, json, report_incomplete};

/// Feeds `input` to a [`ChunkStream`] in `read_size` reads, calling `on_event` for every
/// dispatched event and reporting problems of the stream on stderr. `out` is flushed once the
/// events of each read are handled, so that what a read produced is written before the next
/// read blocks (one flush per read, not per event). The stream is fed through `spare` and
/// `commit` rather than a `ChunkReader`, which hides where one read ends.
fn drive<W: Write>(
    args: &Args,
    mut input: impl Read,
    out: &mut W,
    mut on_event: impl FnMut(&mut W, &Event<'_>, &Payload<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let mut stream = ChunkStream::with_config(Config::new().max_event_bytes(args.max_event_bytes));
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
                Ok(Outcome::Event { event, payload }) => on_event(out, &event, &payload)?,
                Ok(Outcome::Incomplete(incomplete)) => report_incomplete(&incomplete),
                Ok(Outcome::Comment(_)) => {}
                Err(Error::Io(e)) => return Err(e),
                Err(e) => eprintln!("ssechunk: {e}"),
            }
        }
        out.flush()?;
    }
    Ok(())
}

fn usage_json(out: &mut String, usage: Option<Usage>) {
    match usage {
        Some(u) => {
            let _ = write!(
                out,
                "{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{}}}",
                u.prompt_tokens, u.completion_tokens, u.total_tokens
            );
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
            let _ = write!(out, "{{\"index\":{},\"id\":", call.index());
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
    usage_json(out, chunk.usage());
    out.push('}');
}

/// `ssechunk chunks`: one JSON line per dispatched event.
pub fn chunks(args: &Args, input: impl Read, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let mut line = String::new();
    drive(args, input, &mut out, |out, _, payload| {
        line.clear();
        match payload {
            Payload::Done => line.push_str("{\"done\":true}"),
            Payload::Invalid(_) => line.push_str("{\"invalid\":true}"),
            Payload::ApiError(e) => {
                line.push_str("{\"error\":{\"message\":");
                json::opt_string(&mut line, e.message());
                line.push_str(",\"type\":");
                json::opt_string(&mut line, e.kind());
                line.push_str(",\"code\":");
                match e.code() {
                    None => line.push_str("null"),
                    Some(ErrorCode::Str(s)) => json::string(&mut line, s),
                    Some(ErrorCode::Int(n)) => {
                        let _ = write!(line, "{n}");
                    }
                    Some(ErrorCode::Float(n)) => json::float(&mut line, n),
                }
                line.push_str("}}");
            }
            Payload::Chunk(chunk) => chunk_json(&mut line, chunk),
        }
        line.push('\n');
        out.write_all(line.as_bytes())
    })
}

fn ending_name(ending: Ending) -> &'static str {
    match ending {
        Ending::Done => "done",
        Ending::Finished => "finished",
        Ending::Truncated => "truncated",
    }
}

/// `ssechunk message`: the assembled message as one JSON line.
pub fn message(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let mut acc = Accumulator::new();
    drive(args, input, &mut io::sink(), |_, _, payload| {
        acc.push_payload(payload);
        Ok(())
    })?;
    let mut line = String::from("{\"id\":");
    json::opt_string(&mut line, acc.id());
    line.push_str(",\"model\":");
    json::opt_string(&mut line, acc.model());
    line.push_str(",\"choices\":[");
    for (i, choice) in acc.choices().iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let _ = write!(line, "{{\"index\":{},\"role\":", choice.index);
        json::opt_string(&mut line, choice.role.as_deref());
        line.push_str(",\"content\":");
        json::opt_string(&mut line, choice.content.as_deref());
        line.push_str(",\"reasoning\":");
        json::opt_string(&mut line, choice.reasoning.as_deref());
        line.push_str(",\"refusal\":");
        json::opt_string(&mut line, choice.refusal.as_deref());
        line.push_str(",\"tool_calls\":[");
        for (j, call) in choice.tool_calls.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            let _ = write!(line, "{{\"index\":{},\"id\":", call.index);
            json::opt_string(&mut line, call.id.as_deref());
            line.push_str(",\"name\":");
            json::opt_string(&mut line, call.name.as_deref());
            line.push_str(",\"arguments\":");
            json::string(&mut line, &call.arguments);
            let _ = write!(line, ",\"complete\":{}}}", call.arguments_complete());
        }
        line.push_str("],\"finish_reason\":");
        json::opt_string(&mut line, choice.finish_reason.as_deref());
        line.push('}');
    }
    line.push_str("],\"usage\":");
    usage_json(&mut line, acc.usage());
    let _ = write!(line, ",\"ending\":\"{}\"}}", ending_name(acc.ending()));
    writeln!(out, "{line}")
}

/// Counters of `ssechunk stats`.
#[derive(Default)]
struct Stats {
    events: u64,
    chunks: u64,
    done: u64,
    errors: u64,
    content_bytes: u64,
    reasoning_bytes: u64,
    tool_argument_bytes: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    data_bytes: u64,
}

fn len(s: Option<&str>) -> u64 {
    s.map_or(0, |s| s.len() as u64)
}

/// `ssechunk stats`: counts at full speed, no per-event output.
pub fn stats(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let start = Instant::now();
    let mut s = Stats::default();
    drive(args, input, &mut io::sink(), |_, event, payload| {
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
                    s.prompt_tokens += u.prompt_tokens;
                    s.completion_tokens += u.completion_tokens;
                    s.total_tokens += u.total_tokens;
                }
            }
            Payload::Done => s.done += 1,
            Payload::ApiError(_) | Payload::Invalid(_) => s.errors += 1,
        }
        Ok(())
    })?;
    let seconds = start.elapsed().as_secs_f64();
    writeln!(
        out,
        "{{\"events\":{},\"chunks\":{},\"done\":{},\"errors\":{},\"content_bytes\":{},\
         \"reasoning_bytes\":{},\"tool_argument_bytes\":{},\"prompt_tokens\":{},\
         \"completion_tokens\":{},\"total_tokens\":{},\"data_bytes\":{},\"seconds\":{seconds:.6}}}",
        s.events,
        s.chunks,
        s.done,
        s.errors,
        s.content_bytes,
        s.reasoning_bytes,
        s.tool_argument_bytes,
        s.prompt_tokens,
        s.completion_tokens,
        s.total_tokens,
        s.data_bytes,
    )
}

/// `ssechunk text`: the reply as it streams, flushed per read, and a summary on stderr.
pub fn text(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let mut acc = Accumulator::new();
    let (mut api_errors, mut invalid) = (0u64, 0u64);
    drive(args, input, &mut out, |out, _, payload| {
        match payload {
            Payload::Chunk(chunk) => {
                if let Some(text) = chunk.choice().and_then(|c| c.content()) {
                    out.write_all(text.as_bytes())?;
                }
            }
            Payload::ApiError(e) => {
                api_errors += 1;
                eprintln!(
                    "ssechunk: the API sent an error: {}",
                    e.message().unwrap_or("(no message)")
                );
            }
            Payload::Invalid(why) => {
                invalid += 1;
                eprintln!("ssechunk: {why}");
            }
            Payload::Done => {}
        }
        acc.push_payload(payload);
        Ok(())
    })?;
    writeln!(out)?;
    out.flush()?;
    let finish = acc
        .choices()
        .first()
        .and_then(|c| c.finish_reason.as_deref())
        .unwrap_or("none");
    let usage = acc.usage().map_or(String::from("none"), |u| {
        format!(
            "{} prompt + {} completion = {} tokens",
            u.prompt_tokens, u.completion_tokens, u.total_tokens
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
    eprintln!(
        "[finish: {finish}; usage: {usage}; ended: {}; {} chunks, {api_errors} API errors, {invalid} invalid events]",
        ending_name(acc.ending()),
        acc.chunks()
    );
    Ok(())
}
