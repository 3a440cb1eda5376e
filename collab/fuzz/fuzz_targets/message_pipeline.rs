//! Arbitrary bytes as a stream of y-websocket frames from two connections: nothing may panic
//! or abort, and whatever the core accepted must load and encode again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| arbor_collab::exercise(data));
