//! Properties of the public types that users rely on when they embed the crate: which can
//! cross threads, and how big the views are that every event produces.

use ssechunk::{
    Accumulator, ChunkDecoder, ChunkReader, ChunkStream, ChunkView, Config, Error, Event, Frame,
    Outcome, Parser, Payload, Usage,
};

fn send<T: Send>() {}
fn sync<T: Sync>() {}

#[test]
fn owned_types_cross_threads() {
    send::<Parser>();
    sync::<Parser>();
    send::<ChunkStream>();
    sync::<ChunkStream>();
    send::<ChunkDecoder>();
    sync::<ChunkDecoder>();
    send::<Accumulator>();
    sync::<Accumulator>();
    send::<ChunkReader<std::fs::File>>();
    send::<Config>();
    sync::<Config>();
    send::<Error>();
    sync::<Error>();
    send::<Usage>();
}

#[test]
fn views_cross_threads() {
    send::<Event<'static>>();
    sync::<Event<'static>>();
    send::<Frame<'static>>();
    send::<ChunkView<'static>>();
    sync::<ChunkView<'static>>();
    send::<Payload<'static>>();
    send::<Outcome<'static>>();
}

#[test]
fn views_stay_small() {
    // Returned by value for every event: keep them a few cache lines at most.
    assert!(std::mem::size_of::<Event<'static>>() <= 48);
    assert!(std::mem::size_of::<ChunkView<'static>>() <= 192);
    assert!(std::mem::size_of::<Outcome<'static>>() <= 256);
    assert!(std::mem::size_of::<Option<Result<Outcome<'static>, Error>>>() <= 256);
}

#[test]
fn errors_display_and_chain() {
    let too_large = Error::EventTooLarge { limit: 16 };
    assert_eq!(
        too_large.to_string(),
        "event larger than the 16-byte limit was discarded"
    );
    let io = Error::from(std::io::Error::other("reset"));
    assert!(std::error::Error::source(&io).is_some());
}

/// The `Debug` forms show the lines of a stream as escaped byte strings.
#[test]
fn debug_forms_show_bytes_as_text() {
    let mut parser =
        ssechunk::Parser::with_config(ssechunk::Config::new().comments(true).ignored_lines(true));
    parser.feed(b": keep-alive\r\nnot a field\n\ndata: x");
    parser.finish();
    let mut shown = Vec::new();
    while let Some(frame) = parser.next_frame() {
        shown.push(format!("{:?}", frame.expect("small input")));
    }
    assert_eq!(
        shown,
        [
            r#"Comment(b"keep-alive")"#,
            r#"Ignored(b"not a field")"#,
            r#"Incomplete(Incomplete { data: None, line: b"data: x" })"#,
        ]
    );
}
