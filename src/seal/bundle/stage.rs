//! A stage of the bundle's pipelines on a thread of its own: [`Handoff`] is a writer that
//! passes what is written to it, in [`CHUNK`]s over a bounded channel ([`DEPTH`] in flight), to
//! a stage that consumes them and sends the buffers back. The writer of a bundle encrypts its
//! tar through one ([`super::pipeline`]); the verifier hashes a ciphertext through another
//! while age decrypts it ([`super::decrypt`]).

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

/// Bytes per chunk handed between the pipeline's stages.
pub(super) const CHUNK: usize = 1 << 20;
/// Chunks in flight per stage of the pipeline (memory: about `DEPTH` MiB per stage). Deep enough
/// that its threads, more than the cores, rarely wait on one another: with 4, encrypting a
/// bundle took 40% longer on 2 cores (docs/performance.md).
pub(super) const DEPTH: usize = 16;

/// A writer that hands what is written to it, in [`CHUNK`]s, to a stage running on a thread of
/// its own (at most [`DEPTH`] chunks in flight; the stage sends the buffers back to be filled
/// again). [`Handoff::finish`] returns what the stage returned.
pub(super) struct Handoff<T> {
    buf: Vec<u8>,
    sender: Option<SyncSender<Vec<u8>>>,
    back: Receiver<Vec<u8>>,
    stage: Option<JoinHandle<io::Result<T>>>,
}

impl<T: Send + 'static> Handoff<T> {
    /// Starts `stage` on a thread of its own: it receives the chunks, and may send each buffer
    /// back once done with it.
    pub(super) fn new(
        stage: impl FnOnce(Receiver<Vec<u8>>, Sender<Vec<u8>>) -> io::Result<T> + Send + 'static,
    ) -> Handoff<T> {
        let (sender, chunks) = sync_channel(DEPTH);
        let (back_sender, back) = channel();
        Handoff {
            buf: Vec::with_capacity(CHUNK),
            sender: Some(sender),
            back,
            stage: Some(std::thread::spawn(move || stage(chunks, back_sender))),
        }
    }

    fn pass(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut next = self.back.try_recv().unwrap_or_default();
        next.clear();
        next.reserve(CHUNK);
        let full = std::mem::replace(&mut self.buf, next);
        match self.sender.as_ref().map(|sender| sender.send(full)) {
            Some(Ok(())) => Ok(()),
            _ => Err(self.stopped()),
        }
    }

    /// Why the stage stopped early (only an error can stop it).
    fn stopped(&mut self) -> io::Error {
        self.sender = None;
        match self.stage.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("a stage of the bundle's pipeline stopped"),
        }
    }

    /// Hands over what is left, waits for the stage to end, and returns what it returned.
    pub(super) fn finish(mut self) -> io::Result<T> {
        self.pass()?;
        self.sender = None;
        match self.stage.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Err(io::Error::other(
                "a stage of the bundle's pipeline panicked",
            )),
        }
    }
}

impl<T: Send + 'static> Write for Handoff<T> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let taken = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..taken]);
        if self.buf.len() == CHUNK {
            self.pass()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handoff_runs_its_stage_and_reports_its_error() {
        let data: Vec<u8> = (0..3 * CHUNK + 5).map(|i| (i % 241) as u8).collect();
        let mut handoff = Handoff::new(|chunks, back| {
            let mut all = Vec::new();
            for buf in chunks {
                all.extend_from_slice(&buf);
                let _ = back.send(buf);
            }
            Ok(all)
        });
        for part in data.chunks(8192) {
            handoff.write_all(part).unwrap();
        }
        assert_eq!(handoff.finish().unwrap(), data);
        // A stage that fails (a full disk) stops the writer with the stage's own error.
        let mut handoff: Handoff<()> = Handoff::new(|chunks, _| {
            let _first = chunks.recv();
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        });
        let error = (0..100)
            .find_map(|_| handoff.write_all(&data).err())
            .expect("the writer went on after its stage stopped");
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    }
}
