//! Everything one request needs: the HTTP client's fetch with its part file and checks,
//! header parsing, which addresses may be reached, pacing per host, and the headers and
//! cookies each host gets.

pub(crate) mod client;
pub(crate) mod fetch;
pub(crate) mod headers;
pub(crate) mod netguard;
pub(crate) mod pacer;
pub(crate) mod profile;
pub(crate) mod resolve;
