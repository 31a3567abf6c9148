//! The command line's human output in one language at a time (issue 23): `--lang zh-CN` prints
//! the catalogue's Chinese, codes in words; English stays the default; JSON never changes.

use crate::support::{expect, load_examples};

/// Lower-case English words of three letters or more in `text`, outside what a person types
/// (a command in backticks) or reads as a name (case ids, file paths, URLs, hashes).
fn english(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        // A command to type, in backticks, and a name, in 「」, stay as they are.
        let said: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let said: String = said.split(['「', '」']).step_by(2).collect::<Vec<_>>().join(" ");
        for token in said.split_whitespace() {
            // Ids (call-reminder, P0003-A1) are names, as in a code column.
            if token.contains(['/', ':', '@', '.', '-']) {
                continue;
            }
            let word: String = token.chars().filter(char::is_ascii_alphabetic).collect();
            if word.len() >= 3
                && word.chars().all(|c| c.is_ascii_lowercase())
                && !word.chars().all(|c| "abcdef".contains(c))
            {
                out.push(format!("{token:?} in {line:?}"));
            }
        }
    }
    out
}

crate::both! {
    fn the_human_output_speaks_chinese_when_asked(db) {
        load_examples(db);
        let zh = |args: &[&str]| {
            let mut all = vec!["--lang", "zh-CN"];
            all.extend_from_slice(args);
            expect(db, &all, 0)
        };
        for args in [
            &["stats"][..],
            &["cases", "list"],
            &["cases", "show", "CASE-C0003"],
            &["ledger", "verify"],
            &["strategy", "history"],
            &["plan", "--date", "2026-03-04", "--as-of", "2026-03-02T16:00:00Z"],
        ] {
            let out = zh(args);
            let words = english(&out);
            assert!(words.is_empty(), "daylight --lang zh-CN {args:?}:\n{out}\n{words:#?}");
        }
        let out = zh(&["cases", "show", "CASE-C0003"]);
        assert!(out.contains("债务人") && out.contains("逾期") && out.contains("在催"), "{out}");
        let out = zh(&["ledger", "verify"]);
        assert!(out.starts_with("账本完整："), "{out}");
        // English by default; JSON the same in both.
        assert!(expect(db, &["ledger", "verify"], 0).starts_with("ledger intact: "));
        assert_eq!(zh(&["cases", "list", "--json"]), expect(db, &["cases", "list", "--json"], 0));
    }
}
