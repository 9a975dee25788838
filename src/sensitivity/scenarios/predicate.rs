//! The selection language of scenarios: predicates on attributes, sources and labels.

use super::{AttrValue, OutcomeSource, ScenarioStudy};

/// A selection rule on study attributes, outcome sources and labels (see the module docs
/// for the serialized form).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "op", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Predicate {
    /// Every study.
    #[default]
    All,
    /// The attribute equals the value.
    Equals {
        /// Attribute name.
        attr: String,
        /// Value.
        value: AttrValue,
    },
    /// The attribute is recorded and differs from the value.
    NotEquals {
        /// Attribute name.
        attr: String,
        /// Value.
        value: AttrValue,
    },
    /// The attribute equals one of the values.
    In {
        /// Attribute name.
        attr: String,
        /// Values.
        values: Vec<AttrValue>,
    },
    /// Numeric attribute `<` value.
    Lt {
        /// Attribute name.
        attr: String,
        /// Bound.
        value: f64,
    },
    /// Numeric attribute `<=` value.
    Le {
        /// Attribute name.
        attr: String,
        /// Bound.
        value: f64,
    },
    /// Numeric attribute `>` value.
    Gt {
        /// Attribute name.
        attr: String,
        /// Bound.
        value: f64,
    },
    /// Numeric attribute `>=` value.
    Ge {
        /// Attribute name.
        attr: String,
        /// Bound.
        value: f64,
    },
    /// The attribute is present and true (see [`AttrValue::is_true`]).
    Flag {
        /// Attribute name.
        attr: String,
    },
    /// The attribute is recorded.
    Has {
        /// Attribute name.
        attr: String,
    },
    /// The study reports an outcome from this source.
    HasSource {
        /// Outcome source.
        source: OutcomeSource,
    },
    /// The study has this label.
    Label {
        /// Study label.
        label: String,
    },
    /// All of the predicates hold.
    And {
        /// Predicates.
        all: Vec<Predicate>,
    },
    /// Any of the predicates holds.
    Or {
        /// Predicates.
        any: Vec<Predicate>,
    },
    /// The predicate does not hold.
    Not {
        /// Predicate.
        not: Box<Predicate>,
    },
}

impl Predicate {
    /// `attr == value`.
    pub fn equals(attr: impl Into<String>, value: impl Into<AttrValue>) -> Self {
        Predicate::Equals {
            attr: attr.into(),
            value: value.into(),
        }
    }
    /// The flag `attr` is set.
    pub fn flag(attr: impl Into<String>) -> Self {
        Predicate::Flag { attr: attr.into() }
    }
    /// The study reports `source`.
    pub fn has_source(source: OutcomeSource) -> Self {
        Predicate::HasSource { source }
    }
    /// Negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(p: Predicate) -> Self {
        Predicate::Not { not: Box::new(p) }
    }
    /// Conjunction.
    pub fn and(ps: impl IntoIterator<Item = Predicate>) -> Self {
        Predicate::And {
            all: ps.into_iter().collect(),
        }
    }
    /// Disjunction.
    pub fn or(ps: impl IntoIterator<Item = Predicate>) -> Self {
        Predicate::Or {
            any: ps.into_iter().collect(),
        }
    }

    /// Whether the study satisfies the predicate.
    ///
    /// # Examples
    /// ```
    /// use metan::sensitivity::{Predicate, ScenarioStudy};
    /// let s = ScenarioStudy::new("A").attr("design", "RCT").attr("dropout_rate", 0.4);
    /// let p = Predicate::and([
    ///     Predicate::equals("design", "rct"),
    ///     Predicate::Gt { attr: "dropout_rate".into(), value: 0.3 },
    /// ]);
    /// assert!(p.matches(&s));
    /// assert!(!Predicate::flag("flawed").matches(&s));
    /// ```
    pub fn matches(&self, s: &ScenarioStudy) -> bool {
        let num = |attr: &str| s.attribute(attr).and_then(AttrValue::number);
        match self {
            Predicate::All => true,
            Predicate::Equals { attr, value } => {
                s.attribute(attr).is_some_and(|a| a.matches(value))
            }
            Predicate::NotEquals { attr, value } => {
                s.attribute(attr).is_some_and(|a| !a.matches(value))
            }
            Predicate::In { attr, values } => s
                .attribute(attr)
                .is_some_and(|a| values.iter().any(|v| a.matches(v))),
            Predicate::Lt { attr, value } => num(attr).is_some_and(|x| x < *value),
            Predicate::Le { attr, value } => num(attr).is_some_and(|x| x <= *value),
            Predicate::Gt { attr, value } => num(attr).is_some_and(|x| x > *value),
            Predicate::Ge { attr, value } => num(attr).is_some_and(|x| x >= *value),
            Predicate::Flag { attr } => s.attribute(attr).is_some_and(AttrValue::is_true),
            Predicate::Has { attr } => s.attribute(attr).is_some(),
            Predicate::HasSource { source } => s.outcome_from(source).is_some(),
            Predicate::Label { label } => s.label == *label,
            Predicate::And { all } => all.iter().all(|p| p.matches(s)),
            Predicate::Or { any } => any.iter().any(|p| p.matches(s)),
            Predicate::Not { not } => !not.matches(s),
        }
    }
}
