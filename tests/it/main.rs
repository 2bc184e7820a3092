//! Integration tests: drive the real `qoima` binary in temporary folders.

mod archive;
mod audit;
mod bag;
mod check;
mod concurrency;
mod conformance;
mod custody;
mod fetch;
mod foreign;
mod inplace;
mod interop;
mod outputs;
mod package;
mod profile;
mod seal;
mod seal_corpus;
mod seal_encrypt;
mod timestamp;
mod util;
