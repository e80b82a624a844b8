//! Everything one request needs: the HTTP client's fetch with its part file and checks,
//! header parsing, which addresses may be reached, pacing per host, and the headers and
//! cookies each host gets.

pub mod client;
pub mod fetch;
pub mod headers;
pub mod netguard;
pub mod pacer;
pub mod profile;
pub(crate) mod resolve;
