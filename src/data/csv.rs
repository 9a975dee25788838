//! Reading studies from CSV files.
