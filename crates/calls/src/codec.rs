//! G.711 µ-law (PCMU) and A-law (PCMA): decoding for the recording, encoding to transcode when
//! the two legs chose different laws.

/// An audio codec the switch speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// G.711 µ-law, RTP payload type 0.
    Pcmu,
    /// G.711 A-law, RTP payload type 8.
    Pcma,
}

impl Codec {
    /// The static RTP payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The codec of a static payload type.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// Decodes one byte.
    pub fn decode(self, byte: u8) -> i16 {
        match self {
            Codec::Pcmu => ulaw_to_linear(byte),
            Codec::Pcma => alaw_to_linear(byte),
        }
    }

    /// Encodes one sample.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => linear_to_ulaw(sample),
            Codec::Pcma => linear_to_alaw(sample),
        }
    }
}

/// µ-law byte to 16-bit linear.
pub fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let t = ((i32::from(u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

/// 16-bit linear to µ-law byte.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut p = i32::from(sample);
    let sign = if p < 0 {
        p = -p;
        0x80
    } else {
        0
    };
    p = p.min(32635) + 0x84;
    let exp = (31 - (p as u32).leading_zeros()) as i32 - 7;
    let mantissa = (p >> (exp + 3)) & 0x0F;
    !((sign | (exp << 4) | mantissa) as u8)
}

/// A-law byte to 16-bit linear.
pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = i32::from(a & 0x0F) << 4;
    let seg = i32::from((a & 0x70) >> 4);
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// 16-bit linear to A-law byte.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut p = i32::from(sample) >> 3;
    let mask: i32 = if p >= 0 {
        0xD5
    } else {
        p = -p - 1;
        0x55
    };
    let seg = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF].iter().position(|&end| p <= end);
    let aval = match seg {
        None => 0x7F,
        Some(seg) => {
            let seg = seg as i32;
            let m = if seg < 2 { (p >> 1) & 0x0F } else { (p >> seg) & 0x0F };
            (seg << 4) | m
        }
    };
    (aval ^ mask) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_alaw(0), 0xD5);
    }

    #[test]
    fn round_trips_within_quantisation() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for s in (-32768i32..32768).step_by(7) {
                let s = s as i16;
                let back = codec.decode(codec.encode(s));
                let err = (i32::from(back) - i32::from(s)).abs();
                let bound = (i32::from(s).abs() / 16).max(16) + 16;
                assert!(err <= bound, "{codec:?} {s} -> {back}");
            }
        }
    }

    #[test]
    fn decode_encode_is_identity_on_codes() {
        for b in 0..=255u8 {
            // µ-law has two zeros (0x7F and 0xFF); A-law none.
            let u = linear_to_ulaw(ulaw_to_linear(b));
            assert!(u == b || ulaw_to_linear(u) == ulaw_to_linear(b), "ulaw {b:#x}");
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b, "alaw {b:#x}");
        }
    }
}
