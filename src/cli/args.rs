//! Command-line plumbing shared by the subcommands.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use w2sd_engine::choice::Choice;

/// A clap value parser for an engine [`Choice`]: its names, with their help, are the possible
/// values, so `--help` and error messages list them.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|c| PossibleValue::new(c.name()).help(c.help())))
        .map(|s| T::from_name(&s).expect("clap accepted only listed names"))
}
