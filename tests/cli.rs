//! The command-line contract: exact output lines of every mode, exit status 0 on any input at
//! any read size, and bounded memory on an endless line.

#[path = "common/rng.rs"]
mod rng;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rng::Rng;

const BIN: &str = env!("CARGO_BIN_EXE_ssechunk");

/// Starts the binary with every standard stream piped.
fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

fn run(args: &[&str], input: &[u8]) -> Output {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("the binary ends");
    writer.join().expect("the writer ends");
    output
}

fn stdout_lines(args: &[&str], input: &[u8]) -> Vec<String> {
    let out = run(args, input);
    assert!(out.status.success(), "{args:?}: {out:?}");
    let text = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    text.lines().map(str::to_owned).collect()
}

const STREAM: &[u8] = b": keep-alive\r\n\
id: 7\r\n\
data: {\"id\":\"c1\",\"model\":\"m\",\"created\":5,\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Ol\\u00e1\"}}]}\r\n\r\n\
event: error\n\
data: {\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit\",\"code\":429}}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"r\",\"tool_calls\":[{\"index\":0,\"id\":\"t\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n\
data: not json\n\n\
data: [DONE]\n\n\
data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n\
data: partial";

#[test]
fn events_mode() {
    for read in ["1", "3", "64", "65536"] {
        let lines = stdout_lines(&["events", "--read-size", read], STREAM);
        assert_eq!(lines.len(), 6, "{lines:?}");
        assert_eq!(
            lines[0],
            r#"{"event":"message","data":"{\"id\":\"c1\",\"model\":\"m\",\"created\":5,\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Ol\\u00e1\"}}]}","id":"7"}"#
        );
        assert!(lines[1].starts_with(r#"{"event":"error","data":"{\"error\""#));
        assert!(lines[1].ends_with(r#","id":"7"}"#));
        assert_eq!(
            lines[3],
            r#"{"event":"message","data":"not json","id":"7"}"#
        );
        assert_eq!(lines[4], r#"{"event":"message","data":"[DONE]","id":"7"}"#);
    }
}

#[test]
fn events_mode_decodes_invalid_utf8_as_the_rules_do() {
    let lines = stdout_lines(&["events"], b"data: a\xffb\xe2\x82\n\n");
    assert_eq!(
        lines,
        [r#"{"event":"message","data":"a\u{fffd}b\u{fffd}","id":""}"#
            .replace("\\u{fffd}", "\u{fffd}")]
    );
}

#[test]
fn chunks_mode() {
    let lines = stdout_lines(&["chunks", "--read-size", "7"], STREAM);
    assert_eq!(
        lines,
        [
            r#"{"id":"c1","model":"m","created":5,"choices":[{"index":0,"role":"assistant","content":"Olá","reasoning":null,"refusal":null,"tool_calls":[],"finish_reason":null}],"usage":null}"#,
            r#"{"error":{"message":"slow down","type":"rate_limit","code":429}}"#,
            r#"{"id":null,"model":null,"created":null,"choices":[{"index":0,"role":null,"content":null,"reasoning":"r","refusal":null,"tool_calls":[{"index":0,"id":"t","name":"f","arguments":"{\"a\""}],"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
            r#"{"invalid":true}"#,
            r#"{"done":true}"#,
            r#"{"id":null,"model":null,"created":null,"choices":[{"index":0,"role":null,"content":null,"reasoning":null,"refusal":null,"tool_calls":[{"index":null,"id":null,"name":null,"arguments":":1}"}],"finish_reason":null}],"usage":null}"#,
        ]
    );
}

#[test]
fn message_mode() {
    let lines = stdout_lines(&["message", "--read-size", "5"], STREAM);
    // The fragment without an index continues the choice's last tool call.
    let want = r#"{"dialect":"chat","id":"c1","model":"m","choices":[{"index":0,"role":"assistant","content":"Olá","reasoning":"r","refusal":null,"tool_calls":[{"index":0,"id":"t","name":"f","arguments":"{\"a\":1}","complete":true}],"finish_reason":"tool_calls","finish":"tool_calls"}],"usage":{"input_tokens":3,"output_tokens":2,"total_tokens":5,"cached_input_tokens":null,"reasoning_tokens":null},"errors":[{"message":"slow down","type":"rate_limit","code":429}],"invalid":1,"ending":"done"}"#;
    assert_eq!(lines, [want]);
}

#[test]
fn stats_modes() {
    let lines = stdout_lines(&["stats", "--read-size", "2"], STREAM);
    let line = &lines[0];
    for part in [
        r#""events":6,"chunks":3,"done":1,"errors":1,"invalid":1,"content_bytes":4,"reasoning_bytes":1,"tool_argument_bytes":7,"input_tokens":3,"output_tokens":2,"total_tokens":5,"data_bytes":"#,
        r#""seconds":"#,
    ] {
        assert!(line.contains(part), "{line}");
    }
    let lines = stdout_lines(&["stats", "--no-decode"], STREAM);
    assert!(
        lines[0].starts_with(r#"{"events":6,"data_bytes":"#),
        "{}",
        lines[0]
    );
}

#[test]
fn problems_are_reported_on_stderr_only() {
    let out = run(
        &["chunks", "--max-event-bytes", "16"],
        b"data: 0123456789abcdef0123\n\ndata: [DONE]\n\ndata: cut",
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"done\":true}\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("16-byte limit"), "{err}");
    assert!(err.contains("ended inside an event"), "{err}");
}

#[test]
fn text_and_demo() {
    let out = run(&["text"], STREAM);
    assert!(out.status.success());
    // The finish reason completes the call, with what it had then.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Olá\n[tool call f {\"a\"]\n"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("slow down"), "{err}");
    assert!(err.contains("ended: done"), "{err}");
    let out = run(&["demo", "--pace-ms", "0"], b"");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Oi!\nOlá!\n");
}

/// `demo` replays the recorded streams at their recorded pace (about 0.4 s for the two).
#[test]
fn demo_is_paced() {
    let start = Instant::now();
    let out = run(&["demo"], b"");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Oi!\nOlá!\n");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
}

/// A stream cut in the middle of an event and of a tool call's arguments says so, with what
/// it received.
#[test]
fn truncation_is_reported_with_what_was_received() {
    let cut: &[u8] = b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"t\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\": \\\"Par\"}}]}}]}\n\ndata: {\"choices\":[{\"del";
    let lines = stdout_lines(&["message"], cut);
    assert!(
        lines[0].contains(r#""arguments":"{\"city\": \"Par","complete":false"#),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(r#""ending":"truncated"}"#),
        "{}",
        lines[0]
    );
    let out = run(&["text"], cut);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ended inside an event"), "{err}");
    assert!(
        err.contains("get_weather): its arguments are incomplete: {\"city\": \"Par"),
        "{err}"
    );
    assert!(err.contains("ended: truncated"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--read-size", "0"][..],
        &["--bogus"],
        &["events", "a", "b"],
        &["--read-size"],
        &["recording.sse"],
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains("--help"), "{args:?}: {err}");
    }
    let out = run(&["events", "/nonexistent/input.sse"], b"");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn help_lists_the_modes_and_options() {
    for flag in ["--help", "-h"] {
        let out = run(&[flag], b"");
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Usage: ssechunk [OPTIONS] [MODE] [FILE]"),
            "{help}"
        );
        for word in [
            "text",
            "events",
            "chunks",
            "message",
            "stats",
            "demo",
            "bench",
            "--read-size <N>",
            "--max-event-bytes <N>",
            "--no-decode",
            "--version",
            "Exit status",
        ] {
            assert!(help.contains(word), "{flag}: {word}: {help}");
        }
        assert!(!help.contains("--pace-ms"), "{help}");
    }
}

#[test]
fn version_is_the_package_version() {
    for flag in ["--version", "-V"] {
        let out = run(&[flag], b"");
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let want = format!("ssechunk {}\n", env!("CARGO_PKG_VERSION"));
        assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    }
}

/// A FILE where the MODE goes is read in the default mode; `-` there is standard input.
#[test]
fn a_file_without_a_mode_is_read_as_text() {
    let dir = std::env::temp_dir().join(format!("ssechunk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let path = dir.join("stream.sse");
    std::fs::write(&path, STREAM).expect("the stream is written");
    let path = path.to_str().expect("a UTF-8 path");
    let with_mode = run(&["text", path], b"");
    for args in [&[path][..], &["--read-size", "3", path], &["-"]] {
        let out = run(args, STREAM);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(out.stdout, with_mode.stdout, "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_misspelt_option_or_mode_gets_a_suggestion() {
    let out = run(&["events", "--read-sise", "7"], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unexpected argument '--read-sise'"), "{err}");
    assert!(
        err.contains("a similar argument exists: '--read-size'"),
        "{err}"
    );

    let out = run(&["evnts"], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'evnts'"), "{err}");
    assert!(err.contains("a similar value exists: 'events'"), "{err}");
}

#[test]
fn a_bad_value_is_named() {
    for (args, want) in [
        (
            &["--read-size", "0"][..],
            "invalid value '0' for '--read-size <N>': expected a positive integer",
        ),
        (
            &["--read-size", "-5"],
            "invalid value '-5' for '--read-size <N>'",
        ),
        (
            &["--max-event-bytes", "lots"],
            "invalid value 'lots' for '--max-event-bytes <N>': expected a positive integer",
        ),
        (
            &["--read-size"],
            "a value is required for '--read-size <N>'",
        ),
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn a_dash_reads_standard_input() {
    let lines = stdout_lines(&["events", "-"], b"data: x\n\n");
    assert_eq!(lines, [r#"{"event":"message","data":"x","id":""}"#]);
}

/// Starts `args` on piped standard streams, writes `first`, and waits (10 s at most) until
/// stdout holds `want`, while the stream's next event is still held back: the process must
/// have written and flushed what that read produced before blocking on its next read. Only
/// then is `rest` written and standard input closed. Returns all of stdout.
fn printed_before_the_next_event(args: &[&str], first: &[u8], want: &str, rest: &[u8]) -> String {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    stdin.write_all(first).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(want) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(bytes) => seen.extend_from_slice(&bytes),
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "{args:?}: {want:?} was not printed while the next event was held back ({e}); stdout so far: {:?}",
                    String::from_utf8_lossy(&seen)
                );
            }
        }
    }
    // The process is still running, waiting for the rest of its input.
    assert!(child.try_wait().unwrap().is_none(), "{args:?}");
    stdin.write_all(rest).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    seen.extend(rx.try_iter().flatten());
    assert!(status.success(), "{args:?}");
    String::from_utf8(seen).unwrap()
}

/// Every mode that prints per event writes what a read produced before the next read
/// blocks: piped into `jq`, a live stream shows up live.
#[test]
fn output_is_live() {
    let first: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"Ol\\u00e1\"}}]}\n\n";
    let rest: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"!\"}}]}\n\ndata: [DONE]\n\n";
    let out = printed_before_the_next_event(&["events"], first, "}\n", rest);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.starts_with(r#"{"event":"message","data":"{\"choices\""#),
        "{out}"
    );
    let out = printed_before_the_next_event(&["chunks"], first, "}\n", rest);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.starts_with(r#"{"id":null,"#), "{out}");
    assert!(
        out.lines().next().unwrap().contains(r#""content":"Olá""#),
        "{out}"
    );
    let out = printed_before_the_next_event(&["text"], first, "Olá", rest);
    assert_eq!(out, "Olá!\n");
    // The default mode too, and with small reads (an event over many reads).
    let out = printed_before_the_next_event(&["--read-size", "5"], first, "Olá", rest);
    assert_eq!(out, "Olá!\n");
}

#[test]
fn garbage_in_every_mode_at_every_read_size() {
    let pieces: &[&[u8]] = &[
        b"data:",
        b"data: ",
        b"event:",
        b"id:",
        b"retry:",
        b": ",
        b"\r",
        b"\n",
        b"\r\n",
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b"\\",
        b"\\u",
        b"d8",
        b"00",
        b"[DONE]",
        b"\"choices\":",
        b"\"delta\":",
        b"\"content\":",
        b"\"tool_calls\":",
        b"\"error\":",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xc3",
        b"\xa9",
        b"\0",
        b"1e999",
        b"-",
        b"0",
        b",",
    ];
    let mut rng = Rng::new(0x5eed);
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), STREAM.to_vec()];
    for _ in 0..6 {
        let mut input = Vec::new();
        while input.len() < 4000 {
            input.extend_from_slice(pieces[rng.below(pieces.len())]);
        }
        inputs.push(input);
    }
    inputs.push((0..=255u8).cycle().take(3000).collect());
    for mode in ["text", "events", "chunks", "message", "stats"] {
        for read in ["1", "3", "64"] {
            for input in &inputs {
                let out = run(
                    &[mode, "--read-size", read, "--max-event-bytes", "512"],
                    input,
                );
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(out.status.success(), "{mode} at {read}: {err}");
                assert!(!err.contains("panicked"), "{mode} at {read}: {err}");
            }
        }
    }
}

/// The peak resident memory of a running process, from `/proc` (Linux only).
#[cfg(target_os = "linux")]
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `args` on `write`'s output and returns the peak resident memory (KiB) measured once
/// nearly all input was read, and the process's output.
#[cfg(target_os = "linux")]
fn peak_while_streaming(args: &[&str], write: impl FnOnce(&mut dyn Write)) -> (u64, Output) {
    let mut child = spawn(args);
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Output is drained on another thread so that the child never blocks on a full pipe.
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut { stdout }, &mut out).map(|_| out)
    });
    write(&mut stdin);
    stdin.flush().unwrap();
    // The child has read nearly everything by now: its peak so far is the peak of the run.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let peak = peak_rss_kib(pid).expect("VmHWM is readable");
    drop(stdin);
    let mut output = child.wait_with_output().unwrap();
    output.stdout = reader.join().unwrap().unwrap();
    (peak, output)
}

/// An endless line of 256 MiB with a 1 MiB limit keeps the CLI's peak memory under 64 MiB,
/// and the event after it is dispatched normally, in the framing modes and in the decoding
/// modes alike.
#[cfg(target_os = "linux")]
#[test]
fn endless_line_keeps_memory_bounded() {
    for mode in ["events", "chunks"] {
        let (peak, out) = peak_while_streaming(&[mode, "--max-event-bytes", "1048576"], |w| {
            let block = vec![b'a'; 1 << 20];
            w.write_all(b"data: ").unwrap();
            for _ in 0..256 {
                w.write_all(&block).unwrap();
            }
            w.write_all(b"\n\ndata: [DONE]\n\n").unwrap();
        });
        assert!(out.status.success());
        let want = match mode {
            "events" => "{\"event\":\"message\",\"data\":\"[DONE]\",\"id\":\"\"}\n",
            _ => "{\"done\":true}\n",
        };
        assert_eq!(String::from_utf8_lossy(&out.stdout), want);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.matches("limit").count(), 1, "{err}");
        eprintln!("{mode}: peak resident memory on a 256 MiB line with a 1 MiB limit: {peak} KiB");
        assert!(peak < 64 * 1024, "{mode}: peak {peak} KiB");
    }
}

/// 128 MiB of valid chat-completion events, in every reading path: they all decode (`stats`
/// counts every one as a chunk, none as an error), framing and counting stay within a few
/// MiB whatever the length of the stream, and `message`, which must keep the whole reply,
/// stays within the reply's size (twice, for geometric growth) plus a constant.
#[cfg(target_os = "linux")]
#[test]
fn long_streams_keep_memory_flat() {
    let event = br#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"token \"x\"\n"},"finish_reason":null}]}"#;
    // What each event adds to the reply: `token "x"` and a newline.
    let content_per_event = "token \"x\"\n".len() as u64;
    let mut block = Vec::new();
    while block.len() < 1 << 20 {
        block.extend_from_slice(event);
        block.extend_from_slice(b"\n\n");
    }
    let events = (block.len() / (event.len() + 2) * 128) as u64;
    let content_kib = events * content_per_event / 1024;
    let mut stats_peak = 0;
    for args in [&["stats", "--no-decode"][..], &["stats"], &["message"]] {
        let (peak, out) = peak_while_streaming(args, |w| {
            for _ in 0..128 {
                w.write_all(&block).unwrap();
            }
        });
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        match args {
            ["stats", "--no-decode"] => {
                assert!(
                    text.starts_with(&format!("{{\"events\":{events},")),
                    "{text}"
                );
            }
            ["stats"] => {
                let want = format!(
                    "{{\"events\":{events},\"chunks\":{events},\"done\":0,\"errors\":0,\
                     \"invalid\":0,\"content_bytes\":{},",
                    events * content_per_event
                );
                assert!(text.starts_with(&want), "{text}");
                stats_peak = peak;
            }
            _ => {
                // The whole reply is there: the content of every event.
                assert!(
                    text.contains(&"token \\\"x\\\"\\n".repeat(3)),
                    "{}",
                    &text[..text.len().min(300)]
                );
                let bound = stats_peak + 2 * content_kib + 8 * 1024;
                eprintln!(
                    "{args:?}: peak resident memory over 128 MiB of events: {peak} KiB for a \
                     reply of {content_kib} KiB (bound: stats' peak {stats_peak} KiB + twice the \
                     reply + 8 MiB = {bound} KiB)"
                );
                assert!(
                    peak <= bound,
                    "{args:?}: peak {peak} KiB, bound {bound} KiB"
                );
                continue;
            }
        }
        eprintln!("{args:?}: peak resident memory over 128 MiB of events: {peak} KiB");
        assert!(peak < 32 * 1024, "{args:?}: peak {peak} KiB");
    }
}

/// Two parallel tool calls, each with its arguments in two fragments, then the finish reason.
const TWO_CALLS: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"reasoning\":\"need \"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"weather\",\"content\":\"Checking.\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\\\":\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"\\\"CET\\\"}\"}}]}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n\
data: [DONE]\n\n";

/// `text` prints each tool call once it is complete, on a line of its own; `--reasoning`
/// adds the reasoning on stderr.
#[test]
fn text_shows_tool_calls_and_reasoning() {
    for read in ["1", "65536"] {
        let out = run(&["text", "--read-size", read], TWO_CALLS);
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Checking.\n[tool call get_weather {\"city\":\"Paris\"}]\n[tool call get_time {\"tz\":\"CET\"}]\n"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("need weather"), "{err}");
        let out = run(&["text", "--reasoning", "--read-size", read], TWO_CALLS);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("need weather"), "{err}");
    }
}

/// A call the stream never closed (cut before a finish reason or `[DONE]`) is shown at the
/// end all the same, and its arguments are said to be incomplete when they are; reasoning on
/// stderr ends its line before the summary.
#[test]
fn a_call_the_stream_never_closed_is_shown_at_the_end() {
    let cut = TWO_CALLS
        .windows(8)
        .position(|w| w == b"\"CET\\\"}\"")
        .expect("the last fragment");
    let cut = TWO_CALLS[..cut].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let out = run(&["text", "--reasoning"], &TWO_CALLS[..cut]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Checking.\n[tool call get_weather {\"city\":\"Paris\"}]\n[tool call get_time {\"tz\":]\n"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("its arguments are incomplete"), "{err}");
    assert!(err.contains("need weather\n"), "{err}");
}

/// The first call is printed as soon as the second begins, while the stream goes on.
#[test]
fn a_tool_call_is_printed_once_the_next_begins() {
    let cut = TWO_CALLS
        .windows(8)
        .position(|w| w == b"\"CET\\\"}\"")
        .expect("the last fragment");
    let cut = TWO_CALLS[..cut].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let (first, rest) = TWO_CALLS.split_at(cut);
    let out = printed_before_the_next_event(&["text"], first, "Paris\"}]\n", rest);
    assert!(
        out.ends_with("[tool call get_time {\"tz\":\"CET\"}]\n"),
        "{out}"
    );
}

/// A plain JSON error body (no SSE framing) is reported once, as the error it is, not also
/// line by line as ignored lines; lines ignored before an event are still reported.
#[test]
fn a_plain_error_body_is_reported_once() {
    let body = b"{\n  \"error\": {\"message\": \"Rate limit\", \"type\": \"requests\"}\n}\n";
    for mode in ["stats", "message", "text", "events"] {
        let output = run(&[mode], body);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            stderr.matches("the API sent an error: Rate limit").count(),
            1,
            "{mode}: {stderr}"
        );
        assert!(!stderr.contains("ignored a line"), "{mode}: {stderr}");
    }
    let output = run(
        &["stats"],
        b"hello\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\nbye\n",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ignored a line that is no SSE field: hello"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ignored a line that is no SSE field: bye"),
        "{stderr}"
    );
}
