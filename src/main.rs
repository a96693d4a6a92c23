//! The `mixfarm` command line: thin wrapper over [`mixfarm::cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    keep_freed_memory();
    quiet_vulkan_loader();
    mixfarm::cli::run()
}

/// glibc's allocator returns a freed block of more than 128 KiB to the system at once
/// (`munmap`, or trimming the heap), so each song's whole-song buffers (decoded source,
/// master, encoded file) come back as fresh pages that fault in, one by one, when written.
/// Raised limits keep freed memory in the process for the next song: blocks up to 32 MiB
/// (glibc's largest threshold: a 48 kHz channel of 2.9 min in f32) come from the heap, the
/// heap grows 64 MiB beyond each request, and it is not trimmed below 1 GiB of free space.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's parameters; called before any other thread
    // exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
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
