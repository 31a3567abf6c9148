//! Text a person may type: characters refused in every text input (API, console, import).
//!
//! NUL and the other control characters (a tab, a line feed and a carriage return excepted)
//! break storage (PostgreSQL refuses NUL in text) and logs; bidirectional controls and
//! zero-width characters make one value look like another (`T\u{202E}1` beside `T1`, a
//! name with an invisible space). Daylight refuses them rather than strip them, so that what is
//! stored is what was sent.

/// Whether `c` is refused in text: a control character other than tab, line feed and carriage
/// return (C0, DEL, C1), a bidirectional control (U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069), a zero-width character (U+200B–U+200D, U+2060, U+FEFF) or a line or
/// paragraph separator (U+2028, U+2029).
pub fn refused_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        c if c.is_control() => true,
        '\u{061C}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'
        | '\u{2066}'..='\u{2069}' => true,
        '\u{FEFF}' => true,
        _ => false,
    }
}

/// The first refused character of `s` and its position in characters (0-based), if any.
pub fn first_refused(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| refused_char(*c))
}

/// How a refused character is named in a message: `U+0000`.
pub fn describe(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_zero_width_are_refused_and_ordinary_text_is_not() {
        for bad in
            ['\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}']
        {
            assert!(refused_char(bad), "{}", describe(bad));
        }
        for good in ['a', '张', ' ', '\t', '\n', '\r', '·', '—', '，', '😀', '\u{3000}'] {
            assert!(!refused_char(good), "{}", describe(good));
        }
        assert_eq!(first_refused("T\u{202E}1"), Some((1, '\u{202E}')));
        assert_eq!(first_refused("张三 12"), None);
        assert_eq!(describe('\0'), "U+0000");
    }
}
