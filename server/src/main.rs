//! The `rust-echo` binary: all of it lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    rust_echo_server::cli::main()
}
