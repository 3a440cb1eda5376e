//! The first state of a document that has never been stored, from the rows it stands for: a
//! topic's body from its `body` column, a subject's structure from its `topics` rows (the
//! subjects made before the document was the tree's source of truth, and new subjects).

use std::collections::VecDeque;

use arbor_collab::{Document, TEXT};
use arbor_db::topics::{ByParent, TopicNodeRow};
use arbor_map::Structure;

use crate::error::LiveError;
use crate::room::DocKey;

/// A body document holding `text`.
pub(crate) fn body(text: &str) -> Document {
    let mut document = Document::default();
    document.replace_text(TEXT, text);
    document
}

/// Document `key` (of subject `subject_id`) as its rows stand now.
pub(crate) async fn from_rows(
    db: &arbor_db::Db,
    key: DocKey,
    subject_id: i64,
) -> Result<Document, LiveError> {
    match key {
        DocKey::Topic(id) => Ok(body(&db.topic(subject_id, id).await?.body)),
        DocKey::Subject(id) => {
            let rows = db.topic_tree(id).await?;
            let mut seed = Document::default();
            let structure = seed.read(Structure::new);
            seed.change(|txn| structure_from_rows(&structure, txn, &rows))
                .0
                .map_err(|reason| LiveError::unreadable(&key.name(), reason))?;
            Ok(seed)
        }
    }
}

/// Writes the tree of `rows` into `structure`: each parent before its children, siblings in
/// their order (`topic_tree` lists them so).
fn structure_from_rows(
    structure: &Structure,
    txn: &mut yrs::TransactionMut,
    rows: &[TopicNodeRow],
) -> Result<(), String> {
    let tree = ByParent::new(rows).ok_or("a subject without a root topic")?;
    let mut nodes = Vec::with_capacity(rows.len());
    let mut queue = VecDeque::from([tree.root.id]);
    while let Some(id) = queue.pop_front() {
        for child in tree.children(id) {
            nodes.push((child.id, id, child.title.as_str()));
            queue.push_back(child.id);
        }
    }
    structure
        .seed(txn, tree.root.id, &tree.root.title, &nodes)
        .map_err(|e| e.to_string())
}
