//! The output folder (part files, atomic publishing, nothing outside it), safe file
//! names, and the SQLite library that remembers every item.

pub(crate) mod hash;
pub(crate) mod library;
pub(crate) mod naming;
pub(crate) mod store;
pub(crate) mod template;
