//! `ssechunk demo`: the two recorded streams the project started from, replayed through `text`
//! at the pace they were recorded at, one event per read.

use std::io::{self, Read};
use std::time::Duration;

use crate::{Args, modes};

const CASSETTES: [(&str, &str); 2] = [
    (
        "Groq, recorded by openai-go",
        include_str!("../../../tests/fixtures/groq-openai-go__simple_streaming.yaml"),
    ),
    (
        "Hugging Face router, recorded by fantasy",
        include_str!("../../../tests/fixtures/huggingface-fantasy__simple_streaming.yaml"),
    ),
];

/// The response body of a go-vcr cassette: the `body: |+` block scalar of the response,
/// whose lines carry the block's indentation. Enough YAML for these two files.
pub fn response_body(cassette: &str) -> String {
    let mut lines = cassette.lines().skip_while(|l| l.trim() != "response:");
    let mut body = String::new();
    let Some(header) = lines.find(|l| l.trim_start().starts_with("body: |")) else {
        return body;
    };
    let indent = header.len() - header.trim_start().len() + 2;
    for line in lines {
        if line.trim().is_empty() {
            body.push('\n');
        } else if line.len() - line.trim_start().len() >= indent {
            body.push_str(&line[indent..]);
            body.push('\n');
        } else {
            break;
        }
    }
    body
}

/// The pause between events when the cassette does not say how long the response took.
const DEFAULT_PACE: Duration = Duration::from_millis(30);

/// The recorded pace: the response's `duration` (go-vcr writes e.g. `114.54075ms` or `1.2s`)
/// spread over its events, or [`DEFAULT_PACE`].
pub fn recorded_pace(cassette: &str, events: usize) -> Duration {
    let duration = cassette
        .lines()
        .skip_while(|l| l.trim() != "response:")
        .find_map(|l| l.trim().strip_prefix("duration:"))
        .map(str::trim)
        .and_then(|d| match d.strip_suffix("ms") {
            Some(ms) => ms.parse::<f64>().ok().map(|ms| ms / 1e3),
            None => d.strip_suffix('s')?.parse::<f64>().ok(),
        })
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 60.0);
    match duration {
        Some(seconds) if events > 0 => Duration::from_secs_f64(seconds / events as f64),
        _ => DEFAULT_PACE,
    }
}

/// A body that hands out one event per read, after a pause: a stream arriving over the network.
struct Paced<'a> {
    rest: &'a [u8],
    pace: Duration,
}

impl Read for Paced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.rest.is_empty() {
            return Ok(0);
        }
        std::thread::sleep(self.pace);
        let event = memchr::memmem::find(self.rest, b"\n\n").map_or(self.rest.len(), |i| i + 2);
        let n = event.min(buf.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

pub fn run(args: &Args) -> io::Result<()> {
    for (name, cassette) in CASSETTES {
        eprintln!("--- {name}: \"Say hi in Portuguese\"");
        let body = response_body(cassette);
        let pace = args.pace_ms.map_or_else(
            || recorded_pace(cassette, body.matches("\n\n").count()),
            Duration::from_millis,
        );
        let input = Paced {
            rest: body.as_bytes(),
            pace,
        };
        modes::text(args, input, io::stdout().lock())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn bodies_are_the_recorded_streams() {
        for (_, cassette) in super::CASSETTES {
            let body = super::response_body(cassette);
            assert!(body.starts_with("data: {"), "{body}");
            assert!(body.ends_with("data: [DONE]\n\n"), "{body:?}");
            assert!(body.matches("\n\ndata: ").count() >= 5, "{body:?}");
        }
    }

    #[test]
    fn the_pace_is_the_recorded_one() {
        use std::time::Duration;
        let [groq, hf] = super::CASSETTES.map(|(_, c)| c);
        assert_eq!(
            super::recorded_pace(groq, 6),
            Duration::from_secs_f64(0.11454075 / 6.0)
        );
        assert_eq!(
            super::recorded_pace(hf, 2),
            Duration::from_secs_f64(0.318281083 / 2.0)
        );
        let bare = "response:\n    body: |+\n      data: x\n";
        assert_eq!(super::recorded_pace(bare, 3), super::DEFAULT_PACE);
        let slow = "response:\n    duration: 2s\n";
        assert_eq!(super::recorded_pace(slow, 4), Duration::from_millis(500));
    }
}
