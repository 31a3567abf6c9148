//! Closed vocabularies: enums whose words are stable codes.
//!
//! Channels, outcomes, roles, statuses and the like are stored, exchanged and audited by their
//! word (`robot_call`, `promise_to_pay`, `powered_off`). [`vocabulary!`](crate::vocabulary) declares such an enum
//! once and gives it the word, parsing with a clear error, `Display`, `ALL` and serde as the word.

/// Declares an enum whose variants each have a stable word.
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable word.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// The words, comma-separated, for help and error texts.
            pub fn words() -> String {
                [$($word),+].join(", ")
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::Invalid;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s.trim() {
                    $($word => Ok($name::$variant),)+
                    other => Err($crate::error::Invalid::new(
                        $crate::error::Code::Enum,
                        format!("{} {:?}; expected one of {}", $what, other, $name::words()),
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    vocabulary! {
        /// A test vocabulary.
        enum Fruit ("fruit") {
            /// An apple.
            Apple = "apple",
            /// A pear.
            Pear = "pear",
        }
    }

    #[test]
    fn words_parse_print_and_serialise() {
        assert_eq!("pear".parse::<Fruit>(), Ok(Fruit::Pear));
        assert_eq!(Fruit::Apple.to_string(), "apple");
        let err = "plum".parse::<Fruit>().unwrap_err();
        assert_eq!(err.message, "fruit \"plum\"; expected one of apple, pear");
        assert_eq!(serde_json::to_string(&Fruit::ALL).unwrap(), r#"["apple","pear"]"#);
        assert_eq!(serde_json::from_str::<Fruit>("\"apple\"").unwrap(), Fruit::Apple);
    }
}
