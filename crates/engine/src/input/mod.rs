//! From text to URLs: pasted or opened text, numbered patterns, inline (`data:`) images,
//! and images found on web pages.

pub mod data_url;
pub mod gallery_dl;
pub mod intake;
pub mod page;
pub mod ranges;
