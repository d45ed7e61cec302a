//! Writes the node and credential descriptions generated from Rust to `node-descriptor/`, where
//! they are checked in and bundled into the shim. Run with `npm run descriptor`.

use std::path::Path;
use std::process::ExitCode;

use sparkbot_core::description::descriptor_files;

fn main() -> ExitCode {
    let files = match descriptor_files() {
        Ok(files) => files,
        Err(e) => {
            eprintln!("could not generate the descriptions: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (relative, text) in files {
        // The repository's root: two folders up from src/descriptor/.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
        let path = root.unwrap_or(Path::new(".")).join(relative);
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
