//! Options shared by the subcommands.

use clap::ValueEnum;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// metafor-style text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// Serializes to pretty JSON followed by a newline.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, metan::MetaError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| metan::MetaError::Numerical {
            context: format!("JSON serialization: {e}"),
        })
}
