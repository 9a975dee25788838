//! Attrition (stub).
/// Arm.
pub struct ArmCounts;
/// Counts.
pub struct BinaryCounts;
/// Rule.
pub enum MissingRule {}
