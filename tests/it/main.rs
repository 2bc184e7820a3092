//! Integration tests: drive the real `qoima` binary in temporary folders.

mod archive;
mod audit;
mod bag;
mod check;
mod conformance;
mod custody;
mod inplace;
mod interop;
mod package;
mod profile;
mod scale;
mod seal;
mod seal_corpus;
mod seal_encrypt;
mod timestamp;
mod util;
