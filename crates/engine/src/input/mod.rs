//! From text to URLs: pasted or opened text, numbered patterns, and images found on web
//! pages.

pub mod gallery_dl;
pub mod intake;
pub mod page;
pub mod ranges;
