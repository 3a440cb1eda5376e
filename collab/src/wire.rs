//! Reading lib0-encoded bytes (the y-websocket and Yjs v1 wire format) without trusting them:
//! every length is checked against the bytes that are left before anything is allocated, and
//! every variable-length integer is bounded.

use crate::Malformed;

/// A cursor over untrusted bytes.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Malformed> {
        let byte = *self
            .bytes
            .get(self.at)
            .ok_or(Malformed("the message ends early"))?;
        self.at += 1;
        Ok(byte)
    }

    /// An unsigned variable-length integer (7 bits per byte, low first).
    pub(crate) fn var_u64(&mut self) -> Result<u64, Malformed> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift == 63 && byte > 1 {
                    break;
                }
                return Ok(value);
            }
        }
        Err(Malformed("a number is too large"))
    }

    /// An unsigned variable-length integer that fits `u32` (clocks, lengths).
    pub(crate) fn var_u32(&mut self) -> Result<u32, Malformed> {
        u32::try_from(self.var_u64()?).map_err(|_| Malformed("a number is too large"))
    }

    /// A client id: Yjs ids are 53-bit (JavaScript's safe integers); yrs assumes it.
    pub(crate) fn client(&mut self) -> Result<u64, Malformed> {
        let id = self.var_u64()?;
        if id >> 53 != 0 {
            return Err(Malformed("a client id is out of range"));
        }
        Ok(id)
    }

    /// Skips a signed variable-length integer (lib0 `writeVarInt`).
    pub(crate) fn skip_var_i64(&mut self) -> Result<(), Malformed> {
        for _ in 0..10 {
            if self.u8()? & 0x80 == 0 {
                return Ok(());
            }
        }
        Err(Malformed("a number is too large"))
    }

    /// `len` raw bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Result<&'a [u8], Malformed> {
        if len > self.remaining() {
            return Err(Malformed("a length runs past the end of the message"));
        }
        let slice = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(slice)
    }

    /// A length-prefixed byte string.
    pub(crate) fn buf(&mut self) -> Result<&'a [u8], Malformed> {
        let len = self.var_u64()?;
        let len = usize::try_from(len).map_err(|_| Malformed("a number is too large"))?;
        self.bytes(len)
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn string(&mut self) -> Result<&'a str, Malformed> {
        std::str::from_utf8(self.buf()?).map_err(|_| Malformed("a string is not UTF-8"))
    }

    /// A count of items that each take at least `min_bytes`: refused when the bytes left
    /// cannot hold that many, so a forged count never sizes an allocation.
    pub(crate) fn count(&mut self, min_bytes: usize) -> Result<usize, Malformed> {
        let n = self.var_u64()?;
        let n = usize::try_from(n).map_err(|_| Malformed("a count is too large"))?;
        if n.saturating_mul(min_bytes) > self.remaining() {
            return Err(Malformed("a count is larger than the message"));
        }
        Ok(n)
    }

    pub(crate) fn end(&self) -> Result<(), Malformed> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Malformed("unexpected bytes after the message"))
        }
    }
}

/// Writes lib0-encoded bytes.
#[derive(Default)]
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn var_u64(&mut self, mut value: u64) -> &mut Self {
        while value >= 0x80 {
            self.0.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
        self
    }

    pub(crate) fn buf(&mut self, bytes: &[u8]) -> &mut Self {
        self.var_u64(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_it_reads() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut w = Writer::default();
            w.var_u64(value).buf(b"abc");
            let mut r = Reader::new(&w.0);
            assert_eq!(r.var_u64(), Ok(value));
            assert_eq!(r.string(), Ok("abc"));
            assert!(r.end().is_ok());
        }
    }

    #[test]
    fn var_ints_are_bounded() {
        assert_eq!(Reader::new(&[0x7f]).var_u64(), Ok(127));
        assert_eq!(Reader::new(&[0x80, 0x01]).var_u64(), Ok(128));
        assert!(Reader::new(&[0xff; 11]).var_u64().is_err());
        assert!(Reader::new(&[0x80]).var_u64().is_err());
        assert!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x7f])
                .var_u32()
                .is_err()
        );
    }

    #[test]
    fn lengths_and_counts_are_checked_against_the_bytes_left() {
        assert!(Reader::new(&[5, 1, 2]).buf().is_err());
        assert_eq!(Reader::new(&[2, 1, 2]).buf(), Ok(&[1u8, 2][..]));
        // ~250 million entries declared in four bytes.
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0x7f]).count(2).is_err());
        assert!(Reader::new(&[2, 0xc3]).string().is_err());
    }
}
