//! `ssechunk demo`: the two recorded streams the project started from, replayed through `text`.

use std::io;

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

pub fn run(args: &Args) -> io::Result<()> {
    for (name, cassette) in CASSETTES {
        eprintln!("--- {name}: \"Say hi in Portuguese\"");
        let body = response_body(cassette);
        modes::text(args, body.as_bytes(), io::stdout().lock())?;
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
}
