//! The graph arena of one reverse-mode level.
//!
//! Nodes are appended in creation order, which is a topological order, so the
//! backward pass is a single reverse scan with one cotangent slot per node;
//! parents are `u32` ids into the same arena (no `Rc` graph, no hashing).

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::trace::Rule;
use crate::trace::Value;

pub struct Node {
    /// `None` for a leaf (an input of the level).
    pub rule: Option<Box<dyn Rule>>,
    /// The primal inputs (values of lower levels) the VJP rule needs. Two
    /// inline, as most ops have: a node is moved into the tape on every op of
    /// a reverse trace, and four inline values made it ~700 bytes (memmove
    /// was 8% of a 16-element gradient).
    pub inputs: SmallVec<[Value; 2]>,
    pub output: Value,
    /// For each input, its node in this tape, if it is traced at this level.
    pub parents: SmallVec<[Option<u32>; 2]>,
}

#[derive(Default)]
pub struct Tape {
    pub nodes: Vec<Node>,
}

impl Tape {
    pub fn push(&mut self, node: Node) -> Result<u32> {
        let id = u32::try_from(self.nodes.len())
            .map_err(|_| Error::Value("too many operations in one reverse-mode trace".into()))?;
        self.nodes.push(node);
        Ok(id)
    }
}
