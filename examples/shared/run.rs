//! The examples' `main`: errors as one sentence on stderr and exit code 1, as in the `metan`
//! command line (a `main` returning `Result<(), Box<dyn Error>>` would print the error's
//! `Debug` form, e.g. `ParseIntError { kind: InvalidDigit }`).
//!
//! ```ignore
//! #[path = "shared/run.rs"]
//! mod run;
//! fn main() -> std::process::ExitCode {
//!     run::main("digest", body)
//! }
//! fn body() -> Result<(), Box<dyn std::error::Error>> {
//!     let seed: u64 = run::arg(std::env::args().nth(1).as_deref(), "seed", "a non-negative integer such as 42")?.unwrap_or(1);
//!     Ok(())
//! }
//! ```
#![allow(dead_code)]

use std::error::Error;
use std::fmt;
use std::process::ExitCode;
use std::str::FromStr;

/// Runs `body`; on error prints `NAME: error: MESSAGE` (the error's `Display`, on one line)
/// to stderr and returns exit code 1.
pub fn main(name: &str, body: impl FnOnce() -> Result<(), Box<dyn Error>>) -> ExitCode {
    match body() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", message(name, e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// The one line `main` prints for `e`: its `Display`, line breaks folded into spaces.
pub fn message(name: &str, e: &dyn Error) -> String {
    let text = e.to_string();
    let one_line: Vec<&str> = text.split_whitespace().collect();
    format!("{name}: error: {}", one_line.join(" "))
}

/// A command-line argument that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// What the argument is ("seed", "zoom", ...).
    pub name: String,
    /// The text given.
    pub value: String,
    /// What was expected ("a non-negative integer such as 42").
    pub expected: String,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} `{}`: expected {}",
            self.name, self.value, self.expected
        )
    }
}

impl Error for ArgError {}

/// Parses an optional argument: `None` stays `None`, text that does not parse is an
/// [`ArgError`] naming the argument and what it expects.
pub fn arg<T: FromStr>(
    value: Option<&str>,
    name: &str,
    expected: &str,
) -> Result<Option<T>, ArgError> {
    value
        .map(|v| {
            v.trim().parse::<T>().map_err(|_| ArgError {
                name: name.to_string(),
                value: v.to_string(),
                expected: expected.to_string(),
            })
        })
        .transpose()
}
