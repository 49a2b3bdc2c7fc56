//! `php --ri rust_echo` / `phpinfo()`.

use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

use crate::process::with_state;

/// Version, transports, and whether a server runs in this process.
pub extern "C" fn php_module_info(_module: *mut ModuleEntry) {
    let here = with_state(|s| {
        s.hosted
            .as_ref()
            .filter(|h| h.alive())
            .map(|h| h.monitor.local_addr().to_string())
    });
    info_table_start!();
    info_table_row!("rust_echo support", "enabled");
    info_table_row!("version", rust_echo_server::VERSION);
    info_table_row!(
        "transports",
        "memory (in-process), shm (shared-memory ring)"
    );
    info_table_row!(
        "server in this process",
        here.map_or_else(|| "no".to_owned(), |a| format!("yes, {a}"))
    );
    info_table_end!();
}
