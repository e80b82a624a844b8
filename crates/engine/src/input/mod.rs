//! From text to URLs: pasted or opened text, numbered patterns, inline (`data:`) images,
//! and images found on web pages.

pub(crate) mod data_url;
pub(crate) mod gallery_dl;
pub(crate) mod intake;
pub(crate) mod page;
pub(crate) mod ranges;
