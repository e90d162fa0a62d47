//! Access analysis: data gathering for trust analysis and effective permissions.
