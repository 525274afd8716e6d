//! The command-line contract: exact output lines of every mode, exit status 0 on any input at
//! any read size, and bounded memory on an endless line.

#[path = "common/rng.rs"]
mod rng;

use std::io::Write;
use std::process::{Command, Output, Stdio};

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
            r#"{"id":null,"model":null,"created":null,"choices":[{"index":0,"role":null,"content":null,"reasoning":null,"refusal":null,"tool_calls":[{"index":0,"id":null,"name":null,"arguments":":1}"}],"finish_reason":null}],"usage":null}"#,
        ]
    );
}

#[test]
fn message_mode() {
    let lines = stdout_lines(&["message", "--read-size", "5"], STREAM);
    assert_eq!(lines.len(), 1);
    let want = r#"{"id":"c1","model":"m","choices":[{"index":0,"role":"assistant","content":"Olá","reasoning":"r","refusal":null,"tool_calls":[{"index":0,"id":"t","name":"f","arguments":"{\"a\":1}","complete":true}],"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}"#;
    assert!(lines[0].starts_with(want), "{}", lines[0]);
}

#[test]
fn stats_modes() {
    let lines = stdout_lines(&["stats", "--read-size", "2"], STREAM);
    let line = &lines[0];
    for part in [
        r#""events":6,"chunks":3,"done":1,"errors":2,"content_bytes":4,"reasoning_bytes":1,"tool_argument_bytes":7,"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"data_bytes":"#,
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
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Olá\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("slow down"), "{err}");
    assert!(err.contains("ended: done"), "{err}");
    let out = run(&["demo"], b"");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Oi!\nOlá!\n");
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
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = run(&["events", "/nonexistent/input.sse"], b"");
    assert_eq!(out.status.code(), Some(1));
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
                     \"content_bytes\":{},",
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
