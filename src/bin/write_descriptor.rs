//! Writes the node and credential descriptions generated from Rust to `node-descriptor/`, where
//! they are checked in and bundled into the shim. Run with `npm run descriptor`.

#[cfg(not(target_arch = "wasm32"))]
use std::path::Path;
use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
use sparkbot_node::core::description::descriptor_files;

/// The description is generated natively only (the wasm build leaves its texts out).
#[cfg(target_arch = "wasm32")]
fn main() -> ExitCode {
    ExitCode::FAILURE
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    let files = match descriptor_files() {
        Ok(files) => files,
        Err(e) => {
            eprintln!("could not generate the descriptions: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (relative, text) in files {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        match written {
            Ok(()) => println!("wrote {}", path.display()),
            Err(e) => {
                eprintln!("could not write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
