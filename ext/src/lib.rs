//! The `rust_echo` PHP extension: the rust-echo server inside PHP, and publishing from any PHP
//! process to the fastest server that reaches it.
//!
//! # Layout
//! - `server`: `RustEcho\Server` (start, serve, stop, running, stats);
//! - `publish`: `RustEcho\publish()` — in-process queue, else shared-memory ring, else `false`;
//! - `channels`, `encode`: `publish()`'s arguments — channel names, `$data` as JSON text;
//! - `ring`: which ring this process publishes to, and `RustEcho\ring_name()`;
//! - `hosted`: the server's own thread and runtime;
//! - `signals`: which signals the server's threads leave to the host, and which `serve()` takes;
//! - `process`: per-process state and what a `fork()` does to it;
//! - `errors`: the exception hierarchy under `RustEcho\Exception`;
//! - `convert`: PHP arrays ↔ JSON at the boundary;
//! - `info`: `php --ri rust_echo`.

mod channels;
mod convert;
mod encode;
mod errors;
mod hosted;
mod info;
mod json;
mod process;
mod publish;
mod ring;
mod server;
mod signals;

use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs};

static INI_ENTRIES: IniEntryDefs<2> = IniEntryDefs::new([
    IniEntryDef::new(c"rust_echo.ring", c"", IniEntryPermission::All),
    IniEntryDef::end(),
]);

/// Module startup: registers the INI entries. Starts no thread (MINIT runs in the parent of
/// forking servers).
pub fn startup(_ty: i32, module_number: i32) -> i32 {
    IniEntryDef::register(INI_ENTRIES.as_slice(), module_number);
    0
}

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder<'_>) -> ModuleBuilder<'_> {
    let module = module
        .class::<errors::RustEchoException>()
        .class::<errors::ServerException>()
        .class::<errors::ConfigException>()
        .class::<errors::PublishException>()
        .class::<server::Server>();
    publish::register(module).info_function(info::php_module_info)
}
