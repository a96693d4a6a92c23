//! The `mixfarm` command line: thin wrapper over [`mixfarm::cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_vulkan_loader();
    mixfarm::cli::run()
}

/// Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" on every GPU start when
/// the variable is missing (headless nodes, containers, cron): point it at a private folder
/// under the temporary directory first, while the process has one thread.
fn quiet_vulkan_loader() {
    let ok = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .is_some_and(|d| d.is_dir());
    if ok {
        return;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "mixfarm".into());
    let dir = std::env::temp_dir().join(format!("mixfarm-runtime-{user}"));
    if std::fs::create_dir_all(&dir).is_ok() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}
