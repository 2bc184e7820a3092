//! Integration tests: drive the real `qoima` binary in temporary folders.

mod archive;
mod audit;
mod bag;
mod check;
mod concurrency;
mod conformance;
mod custody;
mod decode;
mod exif;
mod faults;
mod fetch;
mod foreign;
mod hostile;
mod identify;
mod inplace;
mod interop;
mod limits;
mod outputs;
mod package;
mod profile;
mod seal;
mod seal_corpus;
mod seal_encrypt;
mod timestamp;
mod update;
mod util;
