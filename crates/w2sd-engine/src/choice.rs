//! Closed sets of named options (protocols, assignments, pooling, …) with one spelling each.
//!
//! The engine names its options here once; the command line builds its parsers and help from
//! [`Choice::ALL`], and config and session files use the same names through serde. The engine
//! itself depends on no command-line crate.

/// A closed set of named options.
pub trait Choice: Copy + PartialEq + Send + Sync + 'static {
    /// Every option, in the order help lists them.
    const ALL: &'static [Self];
    /// The one spelling of this option (command line, config files, sessions).
    fn name(self) -> &'static str;
    /// One line of help.
    fn help(self) -> &'static str;
    /// The option spelled `s`, if any.
    fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == s)
    }
}

/// Implements [`Choice`], `Display` and `FromStr` for a fieldless enum:
/// `choices!(Pool { Last = "last": "hidden state of the last token", … })`.
#[macro_export]
macro_rules! choices {
    ($ty:ident { $($var:ident = $name:literal : $help:literal),+ $(,)? }) => {
        impl $crate::choice::Choice for $ty {
            const ALL: &'static [Self] = &[$($ty::$var),+];
            fn name(self) -> &'static str {
                match self { $($ty::$var => $name),+ }
            }
            fn help(self) -> &'static str {
                match self { $($ty::$var => $help),+ }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::choice::Choice::name(*self))
            }
        }
        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                <$ty as $crate::choice::Choice>::from_name(s).ok_or_else(|| {
                    let all: Vec<&str> = <$ty as $crate::choice::Choice>::ALL.iter().map(|c| $crate::choice::Choice::name(*c)).collect();
                    format!("unknown value '{s}' (expected one of: {})", all.join(", "))
                })
            }
        }
    };
}
