//! Where the recorded corpus is, for the tests that read it: `$SSECHUNK_CORPUS`, or
//! `../shared/corpus` beside the crate. std only, so that `mod.rs`, `chunk_reference.rs` and
//! single test files can all include it.
#![allow(dead_code)]

use std::env;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The corpus folder; `None` when it is absent, after saying so on stderr (past the test
/// harness's capture, so that a plain `cargo test` shows it), so that a checkout without it
/// still passes. With `SSECHUNK_REQUIRE_CORPUS=1` (as CI sets) its absence fails the test
/// instead.
pub fn corpus_dir() -> Option<PathBuf> {
    let (dir, shown) = match env::var_os("SSECHUNK_CORPUS") {
        Some(dir) => {
            let shown = dir.to_string_lossy().into_owned();
            (PathBuf::from(dir), shown)
        }
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
            "../shared/corpus".to_owned(),
        ),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if env::var("SSECHUNK_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!(
            "corpus not found: {shown} (set SSECHUNK_CORPUS); SSECHUNK_REQUIRE_CORPUS=1 requires it"
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "corpus tests SKIPPED: {shown} not found (set SSECHUNK_CORPUS)"
    );
    None
}

/// Every file under `dir` whose name ends with `suffix`, sorted.
pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The corpus files whose names end with `.{ext}` (e.g. `sse`, `awseventstream.bin`), sorted;
/// `None` when the corpus is absent (see [`corpus_dir`]).
pub fn corpus_files(ext: &str) -> Option<Vec<PathBuf>> {
    let dir = corpus_dir()?;
    let files = files_ending(&dir, &format!(".{ext}"));
    assert!(
        !files.is_empty(),
        "no *.{ext} file under {}: is it the corpus?",
        dir.display()
    );
    Some(files)
}
