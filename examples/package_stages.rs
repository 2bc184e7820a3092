//! Prints how long each stage of `qoima package` takes (for bench/package.sh diagnosis).
//! usage: package_stages COLLECTION OUT

use std::time::Instant;

struct Stages(Instant);

impl qoima::digest::Progress for Stages {
    fn stage(&self, name: &str, bytes: u64, files: u64) {
        eprintln!(
            "{:8.3} s  {name} ({bytes} bytes, {files} files)",
            self.0.elapsed().as_secs_f64()
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = qoima::digest::Engine::new(0).expect("a thread pool");
    let s = Stages(Instant::now());
    let r = qoima::package::run::package(
        args[1].as_ref(),
        args[2].as_ref(),
        &Default::default(),
        &engine,
        &s,
    );
    eprintln!("{:8.3} s  done: {}", s.0.elapsed().as_secs_f64(), r.is_ok());
}
