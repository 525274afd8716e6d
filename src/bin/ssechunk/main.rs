//! `ssechunk`: parse an LLM API's Server-Sent Events stream from a file or standard input.

mod bench;
mod demo;
mod json;
mod modes;

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use ssechunk::{Config, Frame, Parser};

#[global_allocator]
static ALLOCATOR: bench::Counting = bench::Counting;

const USAGE: &str = "\
usage: ssechunk [MODE] [--read-size N] [--max-event-bytes N] [--no-decode] [FILE]

Reads FILE, or standard input when FILE is '-' or absent, N bytes per read (default 65536).

modes:
  text     (default) print the reply as it streams; a summary on stderr
  events   one JSON line per dispatched event: {\"event\", \"data\", \"id\"}
  chunks   one JSON line per event, decoded as a chat-completion chunk
  message  one JSON line: the assembled message
  stats    one JSON line of counts and timing (--no-decode: framing only)
  demo     replay the two recorded streams built into the binary through `text`
  bench    measure framing and decoding speed on a generated stream (no input)

Exit status: 0 once the input was read to the end, whatever it held (problems in the
stream are reported on stderr); 1 on an I/O error; 2 on a usage error.
";

pub(crate) struct Args {
    pub(crate) mode: String,
    pub(crate) read_size: usize,
    pub(crate) max_event_bytes: usize,
    pub(crate) no_decode: bool,
    pub(crate) file: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        mode: String::from("text"),
        read_size: 65536,
        max_event_bytes: ssechunk::DEFAULT_MAX_EVENT_BYTES,
        no_decode: false,
        file: None,
    };
    let mut mode_set = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--read-size" | "--max-event-bytes" => {
                let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
                let n: usize =
                    value.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                        format!("{arg}: expected a positive integer, got {value:?}")
                    })?;
                if arg == "--read-size" {
                    args.read_size = n;
                } else {
                    args.max_event_bytes = n;
                }
            }
            "--no-decode" => args.no_decode = true,
            "-h" | "--help" => return Err(String::new()),
            "-" => args.file = None,
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if !mode_set && is_mode(s) => {
                args.mode = s.to_owned();
                mode_set = true;
            }
            s => {
                if args.file.is_some() {
                    return Err(format!("unexpected argument {s}"));
                }
                args.file = Some(s.to_owned());
            }
        }
    }
    Ok(args)
}

fn is_mode(s: &str) -> bool {
    matches!(
        s,
        "text" | "events" | "chunks" | "message" | "stats" | "demo" | "bench"
    )
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            if msg.is_empty() {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("ssechunk: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.mode == "demo" {
        return finish(demo::run(&args));
    }
    if args.mode == "bench" {
        return finish(bench::run(io::stdout().lock()));
    }
    let input: Box<dyn Read> = match &args.file {
        None => Box::new(io::stdin().lock()),
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("ssechunk: cannot open {path}: {e}");
                return ExitCode::from(1);
            }
        },
    };
    let stdout = io::stdout().lock();
    finish(match args.mode.as_str() {
        "events" => modes::events(&args, input, stdout),
        "stats" if args.no_decode => stats_no_decode(&args, input, stdout),
        "stats" => modes::stats(&args, input, stdout),
        "chunks" => modes::chunks(&args, input, stdout),
        "message" => modes::message(&args, input, stdout),
        _ => modes::text(&args, input, stdout),
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
/// reporting limits and an incomplete final event on stderr.
pub(crate) fn drive(
    args: &Args,
    mut input: impl Read,
    mut on_frame: impl FnMut(Frame<'_>) -> io::Result<()>,
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
                Ok(frame) => on_frame(frame)?,
                Err(e) => eprintln!("ssechunk: {e}"),
            }
        }
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
    drive(args, input, |frame| {
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
