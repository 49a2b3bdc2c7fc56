//! The suite's output: one `figure NAME VALUE` line per measurement, printed as it is taken,
//! and the list of checks that failed (any makes the run exit non-zero).

use std::fmt::Display;

/// Figures and failed checks of a run.
#[derive(Debug, Default)]
pub struct Figures {
    failures: Vec<String>,
}

impl Figures {
    /// Print one figure.
    pub fn put(&mut self, name: &str, value: impl Display) {
        println!("figure {name} {value}");
    }

    /// Print a figure and record a failure when `ok` is false.
    pub fn check(&mut self, name: &str, value: impl Display, ok: bool, expected: &str) {
        println!("figure {name} {value}");
        if !ok {
            self.fail(format!("{name} = {value}, expected {expected}"));
        }
    }

    /// Record a failure (a check, or a scenario that could not run).
    pub fn fail(&mut self, what: String) {
        eprintln!("FAILED: {what}");
        self.failures.push(what);
    }

    pub fn failures(&self) -> &[String] {
        &self.failures
    }
}
