//! Structural checks of client bytes before yrs decodes them.
//!
//! yrs decodes nested values recursively with no depth limit (a few kilobytes of nested arrays
//! overflow a thread's stack, which aborts the process), and sizes allocations from declared
//! counts. So an update is walked here first, iteratively, in the Yjs v1 layout: every count is
//! checked against the bytes left, nesting is bounded, and content Arbor does not use
//! (subdocuments, weak links, the legacy JSON content) is refused.

use crate::Malformed;
use crate::wire::Reader;

/// How deep values may nest inside an update (a Yjs client nests a few levels at most).
pub const MAX_NESTING: usize = 64;

const HAS_ORIGIN: u8 = 0b1000_0000;
const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
const HAS_PARENT_SUB: u8 = 0b0010_0000;

/// What a checked update holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateShape {
    /// Structs (items, deletions, skips) it carries.
    pub structs: usize,
    /// Deleted ranges in its delete set.
    pub deleted_ranges: usize,
    /// UTF-8 bytes of text it inserts (string content), an upper bound of how much any text
    /// grows by.
    pub inserted_text: usize,
    /// Values it sets under a key of a root map without a left neighbour: new keys (an
    /// overwrite of a key it already saw carries an origin instead), an upper bound of how
    /// many keys the document's root maps gain.
    pub new_root_keys: usize,
}

impl UpdateShape {
    /// True when applying it changes nothing (`[0, 0]`, what Yjs sends for "nothing new").
    pub fn is_empty(&self) -> bool {
        self.structs == 0 && self.deleted_ranges == 0
    }
}

/// Walks a Yjs v1 update.
pub fn update(bytes: &[u8]) -> Result<UpdateShape, Malformed> {
    let mut r = Reader::new(bytes);
    let mut shape = UpdateShape::default();
    let groups = r.count(3)?;
    for _ in 0..groups {
        let structs = r.count(1)?;
        r.client()?;
        r.var_u32()?; // first clock
        for _ in 0..structs {
            let (text, root_key) = block(&mut r)?;
            shape.inserted_text += text;
            shape.new_root_keys += usize::from(root_key);
            shape.structs += 1;
        }
    }
    let clients = r.count(2)?;
    for _ in 0..clients {
        r.client()?;
        let ranges = r.count(2)?;
        for _ in 0..ranges {
            r.var_u32()?;
            r.var_u32()?;
            shape.deleted_ranges += 1;
        }
    }
    r.end()?;
    Ok(shape)
}

fn id(r: &mut Reader<'_>) -> Result<(), Malformed> {
    r.client()?;
    r.var_u32()?;
    Ok(())
}

fn nonzero_len(r: &mut Reader<'_>) -> Result<(), Malformed> {
    if r.var_u32()? == 0 {
        return Err(Malformed("an empty block"));
    }
    Ok(())
}

/// Walks one struct; returns the bytes of text it inserts, and whether it sets a new key of
/// a root map.
fn block(r: &mut Reader<'_>) -> Result<(usize, bool), Malformed> {
    let info = r.u8()?;
    match info & 0b1_1111 {
        // GC and Skip ranges.
        0 | 10 => return nonzero_len(r).map(|()| (0, false)),
        _ => {}
    }
    let mut root_key = false;
    if info & HAS_ORIGIN != 0 {
        id(r)?;
    }
    if info & HAS_RIGHT_ORIGIN != 0 {
        id(r)?;
    }
    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
        let in_root = r.var_u64()? == 1;
        if in_root {
            r.string()?; // named root type
        } else {
            id(r)?;
        }
        if info & HAS_PARENT_SUB != 0 {
            r.string()?;
            root_key = in_root;
        }
    }
    match info & 0b1111 {
        1 => nonzero_len(r)?, // deleted
        3 => {
            r.buf()?; // binary
        }
        4 => return Ok((r.string()?.len(), root_key)),
        5 => json(r)?, // embed
        6 => {
            r.string()?; // format key
            json(r)?;
        }
        7 => match r.u8()? {
            // array, map, text, XML fragment, XML hook, XML text
            0 | 1 | 2 | 4 | 5 | 6 => {}
            3 => {
                r.string()?; // XML element name
            }
            _ => return Err(Malformed("a kind of shared type Arbor does not use")),
        },
        8 => {
            let values = r.count(1)?;
            for _ in 0..values {
                any(r)?;
            }
        }
        2 => return Err(Malformed("legacy JSON content is not accepted")),
        9 => return Err(Malformed("subdocuments are not accepted")),
        _ => return Err(Malformed("an unknown kind of content")),
    }
    Ok((0, root_key))
}

/// A JSON string, as embeds and formats carry it: nesting bounded like `Any` values.
fn json(r: &mut Reader<'_>) -> Result<(), Malformed> {
    json_nesting(r.string()?)
}

/// Refuses JSON text nesting deeper than [`MAX_NESTING`] (counted without parsing).
fn json_nesting(text: &str) -> Result<(), Malformed> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Malformed("values nest too deeply"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// One lib0 `Any` value, walked with an explicit stack of "values still to read".
fn any(r: &mut Reader<'_>) -> Result<(), Malformed> {
    // Each entry: values left at that level, and whether they are object entries (key first).
    let mut stack: Vec<(usize, bool)> = vec![(1, false)];
    while let Some((left, object)) = stack.last_mut() {
        if *left == 0 {
            stack.pop();
            continue;
        }
        *left -= 1;
        if *object {
            r.string()?;
        }
        match r.u8()? {
            127 | 126 | 121 | 120 => {}
            125 => r.skip_var_i64()?,
            124 => {
                r.bytes(4)?;
            }
            123 | 122 => {
                r.bytes(8)?;
            }
            119 => {
                r.string()?;
            }
            116 => {
                r.buf()?;
            }
            tag @ (118 | 117) => {
                let object = tag == 118;
                let len = r.count(if object { 2 } else { 1 })?;
                if stack.len() >= MAX_NESTING {
                    return Err(Malformed("values nest too deeply"));
                }
                stack.push((len, object));
            }
            _ => return Err(Malformed("an unknown kind of value")),
        }
    }
    Ok(())
}

/// Walks a Yjs v1 state vector (`SyncStep1`).
pub fn state_vector(bytes: &[u8]) -> Result<(), Malformed> {
    let mut r = Reader::new(bytes);
    let entries = r.count(2)?;
    for _ in 0..entries {
        r.client()?;
        r.var_u32()?;
    }
    r.end()
}

/// Walks an awareness update: `(client, clock, JSON state)` entries, each state at most
/// `max_state` bytes.
pub fn awareness(bytes: &[u8], max_state: usize) -> Result<usize, Malformed> {
    let mut r = Reader::new(bytes);
    let entries = r.count(3)?;
    for _ in 0..entries {
        r.client()?;
        r.var_u32()?;
        let state = r.string()?;
        if state.len() > max_state {
            return Err(Malformed("a presence state is too large"));
        }
        json_value(state)?;
    }
    r.end()?;
    Ok(entries)
}

/// A presence state must be valid JSON (`null` removes it): every other client parses it.
fn json_value(state: &str) -> Result<(), Malformed> {
    json_nesting(state)?;
    serde_json::from_str::<serde::de::IgnoredAny>(state)
        .map(|_| ())
        .map_err(|_| Malformed("a presence state is not JSON"))
}
