//! `ssechunk`: parse an LLM API's Server-Sent Events stream from a file or standard input.

mod bench;
mod demo;
mod modes;

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use std::ffi::OsString;
use std::path::Path;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser as _, ValueEnum};
use ssechunk::{Config, Frame, Parser};

#[global_allocator]
static ALLOCATOR: bench::Counting = bench::Counting;

/// What the command prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Mode {
    /// Print the reply as it streams; a summary on stderr
    Text,
    /// One JSON line per dispatched event: {"event", "data", "id"}
    Events,
    /// One JSON line per event, decoded as a chat-completion chunk (other dialects: their parts)
    Chunks,
    /// One JSON line per event, in the vocabulary every dialect shares: {"dialect", "parts"}
    Deltas,
    /// One JSON line: the assembled message
    Message,
    /// One JSON line of counts and timing (--no-decode: framing only)
    Stats,
    /// Replay the two recorded streams built into the binary through `text`, at their pace
    Demo,
    /// Measure framing and decoding speed on a generated stream (no input)
    Bench,
}

/// The wire dialect, or `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectArg {
    /// Detected from the first event that identifies one (chat until then)
    Auto,
    /// OpenAI-compatible Chat Completions
    Chat,
    /// The Anthropic Messages API
    Anthropic,
    /// The OpenAI Responses API
    Responses,
    /// Gemini's streamGenerateContent?alt=sse
    Gemini,
}

impl DialectArg {
    /// The dialect fixed, or `None` to detect it.
    pub(crate) fn fixed(self) -> Option<ssechunk::Dialect> {
        match self {
            DialectArg::Auto => None,
            DialectArg::Chat => Some(ssechunk::Dialect::Chat),
            DialectArg::Anthropic => Some(ssechunk::Dialect::Anthropic),
            DialectArg::Responses => Some(ssechunk::Dialect::Responses),
            DialectArg::Gemini => Some(ssechunk::Dialect::Gemini),
        }
    }
}

/// Parse an LLM API's Server-Sent Events stream from a file or standard input.
#[derive(Debug, clap::Parser)]
#[command(
    name = "ssechunk",
    version,
    after_help = "Exit status: 0 once the input was read to the end, whatever it held (problems in \
                  the stream are reported on stderr); 1 on an I/O error; 2 on a usage error."
)]
pub(crate) struct Args {
    /// What to print
    #[arg(value_enum, default_value_t = Mode::Text)]
    pub(crate) mode: Mode,
    /// The stream to read (`ssechunk FILE` reads it in the default mode); standard input when
    /// '-' or absent
    pub(crate) file: Option<String>,
    /// Bytes asked for per read (at most 268435456)
    #[arg(long, value_name = "N", default_value_t = 65536, value_parser = read_size, allow_negative_numbers = true)]
    pub(crate) read_size: usize,
    /// The largest event accepted, in bytes; a larger one is reported and skipped
    #[arg(long, value_name = "N", default_value_t = ssechunk::DEFAULT_MAX_EVENT_BYTES, value_parser = positive, allow_negative_numbers = true)]
    pub(crate) max_event_bytes: usize,
    /// The stream's wire dialect
    #[arg(long, value_enum, value_name = "DIALECT", default_value_t = DialectArg::Auto)]
    pub(crate) dialect: DialectArg,
    /// `stats`: frame the events without decoding them
    #[arg(long)]
    pub(crate) no_decode: bool,
    /// `text`: also print the reasoning as it streams, on stderr
    #[arg(long)]
    pub(crate) reasoning: bool,
    /// `demo`: milliseconds between events (for tests; default: about 30)
    #[arg(long, value_name = "MS", hide = true)]
    pub(crate) pace_ms: Option<u64>,
}

/// A read size: a positive integer up to the library's largest read.
fn read_size(s: &str) -> Result<usize, String> {
    let n = positive(s)?;
    if n > ssechunk::MAX_READ_SIZE {
        return Err(format!("at most {} bytes", ssechunk::MAX_READ_SIZE));
    }
    Ok(n)
}

/// A positive integer, for sizes.
fn positive(s: &str) -> Result<usize, String> {
    s.parse()
        .ok()
        .filter(|&n: &usize| n > 0)
        .ok_or_else(|| String::from("expected a positive integer"))
}

/// The command line. A FILE where the MODE goes (`ssechunk stream.sse`) is read in the default
/// mode; anything else that is not a mode is a usage error, with clap's suggestion.
fn parse_args() -> Args {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let error = match Args::try_parse_from(&argv) {
        Ok(args) => return args,
        Err(e) => e,
    };
    if error.kind() == ErrorKind::InvalidValue
        && let Some(ContextValue::String(value)) = error.get(ContextKind::InvalidValue)
        && (value == "-" || Path::new(value).is_file())
        && let Some(at) = argv.iter().skip(1).position(|a| a == value.as_str())
    {
        let mut with_mode = argv.clone();
        with_mode.insert(at + 1, OsString::from("text"));
        if let Ok(args) = Args::try_parse_from(with_mode) {
            return args;
        }
    }
    // Usage errors exit 2, `--help` and `--version` exit 0.
    error.exit()
}

fn main() -> ExitCode {
    let args = parse_args();
    match args.mode {
        Mode::Demo => return finish(demo::run(&args)),
        Mode::Bench => return finish(bench::run(io::stdout().lock())),
        _ => {}
    }
    let input: Box<dyn Read> = match args.file.as_deref() {
        None | Some("-") => Box::new(io::stdin().lock()),
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("ssechunk: cannot open {path}: {e}");
                return ExitCode::from(1);
            }
        },
    };
    let stdout = io::stdout().lock();
    finish(match args.mode {
        Mode::Events => modes::events(&args, input, stdout),
        Mode::Stats if args.no_decode => stats_no_decode(&args, input, stdout),
        Mode::Stats => modes::stats(&args, input, stdout),
        Mode::Chunks => modes::chunks(&args, input, stdout),
        Mode::Deltas => modes::deltas(&args, input, stdout),
        Mode::Message => modes::message(&args, input, stdout),
        Mode::Text | Mode::Demo | Mode::Bench => modes::text(&args, input, stdout),
    })
}

fn finish(result: io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ssechunk: {e}");
            ExitCode::from(1)
        }
    }
}

/// Feeds `input` to `parser` in `read_size` reads, calling `on_frame` for every frame and
/// reporting limits and an incomplete final event on stderr. `out` is flushed once the frames
/// of each read are handled, so that what a read produced is written before the next read
/// blocks (one flush per read, not per event).
pub(crate) fn drive<W: Write>(
    args: &Args,
    mut input: impl Read,
    out: &mut W,
    mut on_frame: impl FnMut(&mut W, Frame<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let mut parser = Parser::with_config(Config::new().max_event_bytes(args.max_event_bytes));
    let mut done = false;
    while !done {
        let n = match input.read(parser.spare(args.read_size)) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            parser.finish();
            done = true;
        } else {
            parser.commit(n);
        }
        while let Some(frame) = parser.next_frame() {
            match frame {
                Ok(Frame::Incomplete(incomplete)) => report_incomplete(&incomplete),
                Ok(frame) => on_frame(out, frame)?,
                Err(e) => eprintln!("ssechunk: {e}"),
            }
        }
        out.flush()?;
    }
    Ok(())
}

/// Says on stderr that the stream ended inside an event, and what that event held.
pub(crate) fn report_incomplete(incomplete: &ssechunk::Incomplete<'_>) {
    eprintln!(
        "ssechunk: the stream ended inside an event ({} data bytes, {} bytes of an unterminated line); it was not dispatched",
        incomplete.data().map_or(0, <[u8]>::len),
        incomplete.line().len()
    );
}

fn stats_no_decode(args: &Args, input: impl Read, mut out: impl Write) -> io::Result<()> {
    let start = Instant::now();
    let (mut events, mut data_bytes) = (0u64, 0u64);
    drive(args, input, &mut io::sink(), |_, frame| {
        if let Frame::Event(ev) = frame {
            events += 1;
            data_bytes += ev.data().len() as u64;
        }
        Ok(())
    })?;
    let seconds = start.elapsed().as_secs_f64();
    writeln!(
        out,
        "{{\"events\":{events},\"data_bytes\":{data_bytes},\"seconds\":{seconds:.6}}}"
    )
}
