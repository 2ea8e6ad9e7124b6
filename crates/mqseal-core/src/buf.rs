//! A byte buffer that lives on the stack until it outgrows it, for the associated data
//! built once per message.

/// Bytes kept on the stack: a keyring envelope's authenticated header (about 45 bytes)
/// plus a context of a few entries fits.
const INLINE: usize = 384;

pub(crate) struct InlineBuf {
    inline: [u8; INLINE],
    len: usize,
    spill: Option<Vec<u8>>,
}

impl InlineBuf {
    pub(crate) fn new() -> Self {
        InlineBuf {
            inline: [0; INLINE],
            len: 0,
            spill: None,
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match &self.spill {
            Some(v) => v,
            None => &self.inline[..self.len],
        }
    }
}

/// Something the canonical encodings can be written into.
pub(crate) trait ByteSink {
    fn put(&mut self, bytes: &[u8]);
}

impl ByteSink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl ByteSink for InlineBuf {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(v) = &mut self.spill {
            v.extend_from_slice(bytes);
        } else if self.len + bytes.len() <= INLINE {
            self.inline[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            let mut v = Vec::with_capacity(2 * (self.len + bytes.len()));
            v.extend_from_slice(&self.inline[..self.len]);
            v.extend_from_slice(bytes);
            self.spill = Some(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_the_heap_and_keeps_order() {
        let mut b = InlineBuf::new();
        let chunk: Vec<u8> = (0..100u8).collect();
        let mut expected = Vec::new();
        for _ in 0..10 {
            b.put(&chunk);
            expected.extend_from_slice(&chunk);
            assert_eq!(b.as_slice(), expected.as_slice());
        }
    }
}
