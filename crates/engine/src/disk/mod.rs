//! The output folder (part files, atomic publishing, nothing outside it), safe file
//! names, and the SQLite library that remembers every item.

pub mod library;
pub mod naming;
pub mod store;
pub mod template;
