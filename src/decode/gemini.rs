//! Gemini's `streamGenerateContent?alt=sse`: its events as [`Part`]s.

use simd_json::Node;

use super::{Out, Part};

/// What the stream's earlier events said.
#[derive(Debug, Default)]
pub(crate) struct State {}

impl State {
    /// Decodes one event (its type, and its data parsed as a JSON object at `nodes[0]`).
    /// `Err` names a field of a shape the dialect does not have.
    pub(crate) fn decode<'a>(
        &mut self,
        event_type: &[u8],
        nodes: &[Node<'a>],
        out: &mut Out<'_, 'a>,
    ) -> Result<(), &'static str> {
        let _ = (event_type, nodes, out, Part::Done);
        Ok(())
    }
}
