//! Writes a benchmark's table to `docs/results/` with the command that made it and the machine
//! it ran on. The benches of several crates include this file (`#[path]`): twenty lines do
//! not make a crate.

use std::path::Path;

/// The CPU model and core count of this machine, e.g. "Intel Xeon ..., 2 cores".
pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name\t: ").map(str::to_string))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

/// Writes `# title`, the command, the machine and `notes`, then `table`, to `path` (relative
/// to the workspace root; cargo runs a bench in its package's directory).
pub(crate) fn write(path: &str, title: &str, command: &str, notes: &str, table: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = format!(
        "# {title}\n\nCommand: `make bench` (runs `{command}`).\nMachine: {}. {notes}\n\n{table}",
        machine()
    );
    std::fs::write(root.join(path), doc).expect("write the results");
    eprintln!("wrote {path}");
}
