//! Writes the node description generated from Rust to `node-descriptor/`, where it is checked in
//! and bundled into the shim. Run with `npm run descriptor`.

#[cfg(not(target_arch = "wasm32"))]
use std::path::Path;
use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
use sparkbot_node::core::description::{node_description_file, DESCRIPTOR_PATH};

/// The description is generated natively only (the wasm build leaves its texts out).
#[cfg(target_arch = "wasm32")]
fn main() -> ExitCode {
    ExitCode::FAILURE
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DESCRIPTOR_PATH);
    let write = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, node_description_file()));
    match write {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("could not write {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}
