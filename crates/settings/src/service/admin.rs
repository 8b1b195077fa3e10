//! The admin service's own settings: none beyond the shared ones.

use crate::Setting;

pub const ALL: &[&Setting] = &[];
