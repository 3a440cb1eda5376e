//! Arbitrary bytes as a file for one of the importers (the first byte picks Markdown, OPML,
//! FreeMind or Arbor JSON): nothing may panic or overflow the stack, and whatever reads must
//! be within the limits and write and read back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| arbor_outline::exercise(data));
